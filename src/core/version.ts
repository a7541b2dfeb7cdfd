// The product version, shown by `argos --version` and in MQTT status.
export const VERSION = '0.1.0';
