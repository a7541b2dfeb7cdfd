// The MQTT broker accepts TCP connections.
import { connect } from 'node:net';
import { guarded, type Check } from './check.js';

/** TCP connect with a deadline. */
export function tcpReachable(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const done = (err?: Error) => {
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`no answer within ${timeoutMs} ms`)));
    socket.once('connect', () => done());
    socket.once('error', (e: NodeJS.ErrnoException) => done(new Error(e.code ?? e.message)));
  });
}

/** Host and port of an MQTT URL, with the scheme's default port. */
export function brokerAddress(url: string): { host: string; port: number } {
  const u = new URL(url);
  const defaults: Record<string, number> = { 'mqtt:': 1883, 'tcp:': 1883, 'mqtts:': 8883, 'ssl:': 8883, 'ws:': 80, 'wss:': 443 };
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: u.port ? Number(u.port) : (defaults[u.protocol] ?? 1883) };
}

export const mqttCheck: Check = async ({ config, timeoutMs }) => {
  if (!config.mqttUrl) return [{ name: 'mqtt broker', status: 'skip', detail: 'ARGOS_MQTT_URL is not set' }];
  const { host, port } = brokerAddress(config.mqttUrl);
  return [
    await guarded('mqtt broker', async () => (await tcpReachable(host, port, timeoutMs), `${host}:${port} accepts connections`), `start the broker or fix ARGOS_MQTT_URL (${config.mqttUrl}); alerts wait in the database meanwhile`, timeoutMs + 1000),
  ];
};
