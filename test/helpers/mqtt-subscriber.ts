// A real MQTT subscriber for tests: a persistent session (so QoS 1 messages published
// while it is away are kept by a broker with persistence), recording every message.
import mqtt, { type MqttClient } from 'mqtt';
import { waitFor } from './fake-time.js';

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
  qos: number;
}

export class Subscriber {
  readonly messages: Received[] = [];

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => this.messages.push({ topic, payload: payload.toString(), retain: packet.retain, qos: packet.qos }));
  }

  /** Connects and subscribes to `filter` (QoS 1); resolves once subscribed. */
  static async connect(url: string, filter: string, clientId = `sub-${process.pid}-${Math.random().toString(16).slice(2)}`): Promise<Subscriber> {
    const client = mqtt.connect(url, { clientId, clean: false, reconnectPeriod: 100, connectTimeout: 5000 });
    const sub = new Subscriber(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(filter, { qos: 1 });
    return sub;
  }

  on(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  async waitFor(cond: (s: this) => boolean, what: string, limitMs = 15_000): Promise<void> {
    await waitFor(() => cond(this), what, limitMs);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
