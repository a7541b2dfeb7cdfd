// One MQTT connection of the hub: the one file of the hub that talks to mqtt.js.
// MQTT 5, a stable client id and a persistent session (clean start off, a session expiry),
// so the broker keeps what arrives while this hub is away and sends again what it had not
// acknowledged. mqtt.js hands a connection's messages over one at a time and sends the
// PUBACK when `onMessage` resolves: a message is acknowledged only once it is stored.
// Reconnects with capped exponential backoff and jitter, a fresh client each time (the
// session lives on the broker).
import mqtt, { type IClientOptions, type IClientSubscribeOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../../core/logger.js';
import type { Lifecycle } from '../../core/types.js';
import { Backoff, type BackoffOptions } from '../../core/backoff.js';
import { systemTimers, type Timers } from '../../core/time.js';
import { brokerAuthOptions, brokerForLogs, type BrokerSettings } from '../../core/mqtt.js';

export type { BrokerSettings };

export interface IngestConnectionOptions {
  broker: BrokerSettings;
  clientId: string;
  /** Topic filters to subscribe to (QoS 1) on every connect. */
  filters: readonly string[];
  /** 0 = a clean, throw-away session. */
  sessionExpirySeconds: number;
  /** Resolves when the message may be acknowledged; rejects to leave it unacknowledged. */
  onMessage: (topic: string, payload: Buffer, retained: boolean) => Promise<void>;
  onConnect?: () => void;
  log: Logger;
  timers?: Timers;
  backoff?: BackoffOptions;
  keepaliveSeconds?: number;
}

export class IngestConnection implements Lifecycle {
  private client: MqttClient | undefined;
  private options: IClientOptions = {};
  private reconnectTimer: unknown;
  private stopping = false;
  private connects = 0;
  private readonly timers: Timers;
  private readonly backoff: Backoff;

  constructor(private readonly o: IngestConnectionOptions) {
    this.timers = o.timers ?? systemTimers;
    this.backoff = new Backoff({ initialMs: 500, maxMs: 60_000, ...o.backoff });
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Successful connections since start. */
  get connections(): number {
    return this.connects;
  }

  /** Starts connecting in the background; resolves at once (the broker may be down). */
  async start(): Promise<void> {
    if (this.client) return;
    this.stopping = false;
    this.options = this.clientOptions();
    this.connect();
  }

  private clientOptions(): IClientOptions {
    const b = this.o.broker;
    const options: IClientOptions = {
      clientId: this.o.clientId,
      protocolVersion: 5,
      clean: this.o.sessionExpirySeconds === 0,
      properties: { sessionExpiryInterval: this.o.sessionExpirySeconds },
      keepalive: this.o.keepaliveSeconds ?? 30,
      connectTimeout: 10_000,
      reconnectPeriod: 0,
    };
    return { ...options, ...brokerAuthOptions(b) };
  }

  private connect(): void {
    const client = mqtt.connect(this.o.broker.url, this.options);
    this.client = client;
    client.handleMessage = (packet, done) => {
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      this.o.onMessage(packet.topic, payload, packet.retain).then(
        () => done(),
        (e: unknown) => done(e as Error),
      );
    };
    client.on('connect', () => void this.onConnect(client));
    client.once('close', () => this.onClose(client));
    client.on('error', (e) => this.o.log.warn({ broker: brokerForLogs(this.o.broker.url), client: this.o.clientId, reason: e.message }, 'MQTT error'));
  }

  private async onConnect(client: MqttClient): Promise<void> {
    this.connects++;
    const stream = client.stream as { setNoDelay?: (on: boolean) => unknown } | undefined;
    stream?.setNoDelay?.(true);
    this.backoff.reset();
    const sub: IClientSubscribeOptions = { qos: 1 };
    try {
      await client.subscribeAsync([...this.o.filters], sub);
      this.o.log.info({ broker: brokerForLogs(this.o.broker.url), client: this.o.clientId, connections: this.connects }, 'MQTT connected and subscribed');
      this.o.onConnect?.();
    } catch (e) {
      this.o.log.warn({ client: this.o.clientId, reason: (e as Error).message }, 'MQTT subscribe failed; reconnecting');
      client.end(true);
    }
  }

  private onClose(client: MqttClient): void {
    if (this.stopping || client !== this.client) return;
    client.removeAllListeners('connect');
    client.on('error', () => undefined);
    client.end(true);
    this.client = undefined;
    const wait = this.backoff.next();
    this.o.log.warn({ broker: brokerForLogs(this.o.broker.url), client: this.o.clientId, retryInMs: wait, attempt: this.backoff.attempts }, 'MQTT connection lost or refused; will reconnect');
    this.reconnectTimer = this.timers.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopping) this.connect();
    }, wait);
  }

  /** Publishes; resolves on PUBACK (QoS 1). Fails at once when not connected (nothing is queued in memory). */
  publish(topic: string, payload: string, qos: 0 | 1, retain = false): Promise<void> {
    const client = this.client;
    if (!client?.connected || this.stopping) return Promise.reject(new Error('not connected to the MQTT broker'));
    return new Promise((resolve, reject) => client.publish(topic, payload, { qos, retain }, (err) => (err ? reject(err) : resolve())));
  }

  /** Disconnects; the broker keeps the session (and what is unacknowledged) for next time. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.reconnectTimer !== undefined) this.timers.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    client.on('error', () => undefined);
    await new Promise<void>((resolve) => client.end(!client.connected, {}, () => resolve()));
  }
}
