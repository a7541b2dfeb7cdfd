// MQTT reporter: the one file that talks to mqtt.js.
// - `<prefix>/<node>/status`: `online` retained on every connect; Last Will `offline`
//   retained; `offline` published before a clean disconnect.
// - `<prefix>/<node>/alert`: outbox messages, QoS 1, not retained; delivered = PUBACK.
//   The outbox is the only queue: each connection is a fresh mqtt.js client, and when it
//   drops, sends waiting for a PUBACK fail and their rows are sent again on the next
//   connection (a message whose PUBACK was lost may arrive twice, with the same id).
// - `<prefix>/<node>/stats`: counters every `statsIntervalMs`, QoS 0.
// - `<prefix>/<node>/state`: the learning state (learning/training/detecting, the model in
//   use), retained, on every change and on every connect.
// - `<prefix>/<node>/cmd` in (QoS 1, subscribed on every connect) and `<prefix>/<node>/cmd/result`
//   out: operators' commands and their results (the daemon decides what they do).
// Reconnects with capped exponential backoff and jitter (mqtt.js's fixed period is off).
// Nothing is published while disconnected (mqtt.js would queue it in memory).
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../core/logger.js';
import { type Lifecycle } from '../core/types.js';
import { brokerAuthOptions, brokerForLogs, encodePayload, TOPIC_OPTIONS, topicFor, type BrokerSettings, type CommandResult, type MqttTopicPayloads, type StatePayload, type StatsPayload, type TopicKind } from '../core/mqtt.js';
import type { Reporter, SendResult } from './reporter.js';
import { escapeJsonForTerminal, topicSegment } from '../core/sanitize.js';
import { systemClock, type Clock, systemTimers, type Timers } from '../core/time.js';
import { Backoff, delay, type BackoffOptions } from '../core/backoff.js';
import type { OutboxMessage } from '../core/storage.js';

export interface MqttReporterOptions extends BrokerSettings {
  prefix: string;
  node: string;
  log: Logger;
  /** Counters and outbox depth for the stats topic; no stats when absent. */
  stats?: () => Omit<StatsPayload, 'node' | 'time' | 'uptime'>;
  statsIntervalMs?: number;
  clock?: Clock;
  timers?: Timers;
  /** Reconnect delays (default 1 s doubling to 2 min, half jitter). */
  backoff?: BackoffOptions;
  keepaliveSeconds?: number;
  connectTimeoutMs?: number;
  /** How long stop() waits for `offline` to be acknowledged. */
  stopTimeoutMs?: number;
  /** A send without PUBACK after this long is given up and retried (default 30 s). */
  ackTimeoutMs?: number;
  /** Runs a command that came on `<prefix>/<node>/cmd`; its result goes to `cmd/result`. No subscription when absent. */
  onCommand?: (payload: Buffer) => Promise<CommandResult>;
}

export { MqttConfigError } from '../core/mqtt.js';

export class MqttReporter implements Reporter, Lifecycle {
  readonly name = 'mqtt';
  readonly maxInFlight = 16;
  private client: MqttClient | undefined;
  private readonly timers: Timers;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly readyCallbacks: (() => void)[] = [];
  private reconnectTimer: unknown;
  private statsTimer: unknown;
  private stopping = false;
  private startedAt = 0;
  private connects = 0;
  private lastState: StatePayload | undefined;

  constructor(private readonly o: MqttReporterOptions) {
    this.timers = o.timers ?? systemTimers;
    this.clock = o.clock ?? systemClock;
    this.backoff = new Backoff({ initialMs: 1000, maxMs: 120_000, ...o.backoff });
  }

  topic(kind: TopicKind): string {
    return topicFor(this.o.prefix, this.o.node, kind);
  }

  /** True while connected to the broker. */
  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Successful connections since start (1 = never reconnected). */
  get connections(): number {
    return this.connects;
  }

  onReady(callback: () => void): void {
    this.readyCallbacks.push(callback);
  }

  /** Starts connecting in the background; resolves at once (the broker may be down). */
  async start(): Promise<void> {
    if (this.client) return;
    this.stopping = false;
    this.startedAt = this.clock.monotonic();
    this.options = this.clientOptions();
    this.connect();
  }

  private options: IClientOptions = {};

  private connect(): void {
    const client = mqtt.connect(this.o.url, this.options);
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.once('close', () => this.onClose(client));
    client.on('error', (e) => this.o.log.warn({ broker: this.safeUrl(), reason: e.message }, 'MQTT error'));
  }

  async stop(): Promise<void> {
    if (this.stopping || (this.client === undefined && this.reconnectTimer === undefined)) return;
    this.stopping = true;
    if (this.reconnectTimer !== undefined) this.timers.clearTimeout(this.reconnectTimer);
    if (this.statsTimer !== undefined) this.timers.clearTimeout(this.statsTimer);
    this.reconnectTimer = undefined;
    this.statsTimer = undefined;
    const client = this.client;
    if (!client) return;
    const limit = this.o.stopTimeoutMs ?? 2000;
    if (client.connected) {
      const sent = this.publish('status', 'offline').catch((e: unknown) => this.o.log.warn({ reason: (e as Error).message }, 'cannot publish MQTT offline status'));
      const timeout = new AbortController();
      await Promise.race([sent, delay(limit, this.timers, timeout.signal)]);
      timeout.abort();
    }
    // end(true) fails sends still waiting for a PUBACK: their rows stay pending for next time.
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
    this.client = undefined;
    this.o.log.info({ broker: this.safeUrl() }, 'MQTT disconnected');
  }

  async send(message: OutboxMessage): Promise<SendResult> {
    const client = this.client;
    if (!client || !client.connected || this.stopping) return { kind: 'retry', reason: 'not connected to the MQTT broker' };
    return new Promise((resolve) => {
      const timer = this.timers.setTimeout(() => resolve({ kind: 'retry', reason: 'no PUBACK in time' }), this.o.ackTimeoutMs ?? 30_000);
      // The stored JSON as it is, with what a subscriber's terminal could act on escaped (same values).
      client.publish(this.topic('alert'), escapeJsonForTerminal(message.payload), TOPIC_OPTIONS.alert, (err) => {
        this.timers.clearTimeout(timer);
        resolve(err ? { kind: 'retry', reason: err.message } : { kind: 'delivered' });
      });
    });
  }

  /** Publishes one typed message; resolves on PUBACK (QoS 1) or once written (QoS 0). */
  publish<K extends TopicKind>(kind: K, payload: MqttTopicPayloads[K]): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new Error('MQTT is not started'));
    return new Promise((resolve, reject) => {
      client.publish(this.topic(kind), encodePayload(kind, payload), TOPIC_OPTIONS[kind], (err) => (err ? reject(err) : resolve()));
    });
  }

  private clientOptions(): IClientOptions {
    const status = this.topic('status');
    const options: IClientOptions = {
      clientId: `argos-${topicSegment(this.o.node)}-${randomBytes(4).toString('hex')}`,
      clean: true,
      keepalive: this.o.keepaliveSeconds ?? 30,
      connectTimeout: this.o.connectTimeoutMs ?? 10_000,
      reconnectPeriod: 0,
      will: { topic: status, payload: Buffer.from(encodePayload('status', 'offline')), qos: TOPIC_OPTIONS.status.qos, retain: TOPIC_OPTIONS.status.retain },
    };
    return { ...options, ...brokerAuthOptions(this.o) };
  }

  private onConnect(): void {
    this.connects++;
    // Alerts are small, rare packets: without TCP_NODELAY, Nagle's algorithm holds one back
    // until the previous one is acknowledged, and the peer's delayed ACK adds ~40 ms.
    const stream = this.client?.stream as { setNoDelay?: (on: boolean) => unknown } | undefined;
    stream?.setNoDelay?.(true);
    this.backoff.reset();
    this.o.log.info({ broker: this.safeUrl(), connections: this.connects }, 'MQTT connected');
    this.publish('status', 'online').catch((e: unknown) => this.o.log.warn({ reason: (e as Error).message }, 'cannot publish MQTT status'));
    if (this.lastState !== undefined) this.publishState(this.lastState);
    if (this.o.onCommand !== undefined) this.listen(this.o.onCommand);
    if (this.o.stats && this.statsTimer === undefined) this.armStats();
    for (const cb of this.readyCallbacks) cb();
  }

  /** The daemon's state changed: retained on `state` now (when connected) and on every later connect. */
  publishState(state: StatePayload): void {
    this.lastState = state;
    if (!this.connected) return;
    this.publish('state', state).catch((e: unknown) => this.o.log.warn({ reason: (e as Error).message }, 'cannot publish the MQTT state'));
  }

  /** Subscribes to this node's command topic; each command's result is published on `cmd/result`. */
  private listen(run: (payload: Buffer) => Promise<CommandResult>): void {
    const client = this.client;
    if (client === undefined) return;
    const topic = this.topic('cmd');
    client.on('message', (t, payload) => {
      if (t !== topic) return;
      run(payload).then(
        (result) => {
          this.o.log.info({ command: result.command, id: result.id, ok: result.ok }, 'command over MQTT');
          return this.publish('cmd/result', result);
        },
        (e: unknown) => this.o.log.error({ err: e }, 'command failed'),
      ).catch((e: unknown) => this.o.log.warn({ reason: (e as Error).message }, 'cannot publish a command result'));
    });
    client.subscribe(topic, { qos: TOPIC_OPTIONS.cmd.qos }, (err) => {
      if (err) this.o.log.warn({ topic, reason: err.message }, 'cannot subscribe to the command topic');
    });
  }

  private onClose(client: MqttClient): void {
    if (this.stopping || client !== this.client) return;
    // Drop this client with everything it holds: its unacknowledged sends fail now and
    // stay pending in the outbox.
    client.removeAllListeners('connect');
    client.on('error', () => undefined);
    client.end(true);
    this.client = undefined;
    const wait = this.backoff.next();
    this.o.log.warn({ broker: this.safeUrl(), retryInMs: wait, attempt: this.backoff.attempts }, 'MQTT connection lost or refused; will reconnect');
    this.reconnectTimer = this.timers.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopping) this.connect();
    }, wait);
  }

  private armStats(): void {
    this.statsTimer = this.timers.setTimeout(() => {
      this.statsTimer = undefined;
      if (this.stopping) return;
      if (this.connected && this.o.stats) {
        const now = this.clock.now();
        const payload: StatsPayload = { node: this.o.node, time: new Date(now).toISOString(), uptime: Math.round((this.clock.monotonic() - this.startedAt) / 1000), ...this.o.stats() };
        this.publish('stats', payload).catch(() => undefined);
      }
      this.armStats();
    }, this.o.statsIntervalMs ?? 60_000);
  }

  /** The broker URL without credentials, for logs. */
  private safeUrl(): string {
    return brokerForLogs(this.o.url);
  }
}
