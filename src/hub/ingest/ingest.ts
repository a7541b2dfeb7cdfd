// The hub's intake: N connections in one MQTT 5 shared-subscription group, every message
// read (messages.ts), refused ones counted and logged, accepted ones written in batches
// (writer.ts) and acknowledged once stored. Several hubs in the same group split a fleet's
// stream between them; a hub that restarts resumes its sessions and misses nothing.
//
// Shared subscriptions never deliver retained messages, so at start a short-lived clean
// session reads the retained `status` and `state` of every node once (the "sweep"): a hub
// that starts after its nodes still knows who is online and what each is doing.
import type { Logger } from '../../core/logger.js';
import { RateLimitedLog } from '../../core/logger.js';
import type { Lifecycle } from '../../core/types.js';
import { delay } from '../../core/backoff.js';
import { stopAllSettled } from '../../core/lifecycle.js';
import { systemClock, systemTimers, type Clock, type Timers } from '../../core/time.js';
import { INGEST_TOPICS, readMessage, type RefusalReason } from './messages.js';
import { IngestConnection, type BrokerSettings } from './connection.js';
import { IngestWriter, type RecordSink } from './writer.js';
import type { IngestKind, IngestRecord, WriteSummary } from '../store/records.js';

export interface IngestCounters {
  received: number;
  stored: Record<IngestKind, number>;
  refused: Record<RefusalReason, number>;
  alertsInserted: number;
  alertsUpdated: number;
  alertsDuplicate: number;
  writeFailures: number;
}

export interface IngestOptions {
  broker: BrokerSettings;
  prefix: string;
  group: string;
  /** Stable name of this hub: client ids are `argos-hub-<instance>-<n>`. */
  instance: string;
  connections: number;
  sessionExpirySeconds: number;
  store: RecordSink;
  log: Logger;
  /** After each committed batch (metrics: batch size, latency). */
  onWritten?: (records: readonly IngestRecord[], summary: WriteSummary, ms: number) => void;
  /** Skip the retained sweep (tests of the shared group alone). */
  sweep?: boolean;
  /** How long the sweep waits for more retained messages before it ends (default 1 s, at most 15 s in all). */
  sweepQuietMs?: number;
  clock?: Clock;
  timers?: Timers;
}

export class MqttIngest implements Lifecycle {
  readonly counters: IngestCounters = {
    received: 0,
    stored: { alert: 0, status: 0, state: 0, stats: 0, result: 0 },
    refused: { topic: 0, too_large: 0, not_json: 0, invalid: 0, node_mismatch: 0 },
    alertsInserted: 0,
    alertsUpdated: 0,
    alertsDuplicate: 0,
    writeFailures: 0,
  };
  readonly writer: IngestWriter;
  private readonly connections: IngestConnection[];
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly refusals: RateLimitedLog;
  private readonly sweepAbort = new AbortController();
  private sweeping: Promise<void> | undefined;

  constructor(private readonly o: IngestOptions) {
    this.clock = o.clock ?? systemClock;
    this.timers = o.timers ?? systemTimers;
    this.refusals = new RateLimitedLog(o.log, 10, 60_000, this.clock);
    this.writer = new IngestWriter({
      store: o.store,
      log: o.log,
      clock: this.clock,
      timers: this.timers,
      onWritten: (records, summary, ms) => {
        for (const r of records) this.counters.stored[r.kind]++;
        this.counters.alertsInserted += summary.inserted;
        this.counters.alertsUpdated += summary.updated;
        this.counters.alertsDuplicate += summary.duplicates;
        o.onWritten?.(records, summary, ms);
      },
      onFailed: () => this.counters.writeFailures++,
    });
    const prefix = o.prefix.replace(/\/+$/, '');
    const filters = INGEST_TOPICS.map((t) => `$share/${o.group}/${prefix}/+/${t}`);
    this.connections = Array.from(
      { length: o.connections },
      (_, i) =>
        new IngestConnection({
          broker: o.broker,
          clientId: `argos-hub-${o.instance}-${i}`,
          filters,
          sessionExpirySeconds: o.sessionExpirySeconds,
          onMessage: (topic, payload) => this.onMessage(topic, payload, false),
          log: o.log,
          timers: this.timers,
        }),
    );
  }

  /** True while at least one connection is up. */
  get connected(): boolean {
    return this.connections.some((c) => c.connected);
  }

  get connectedCount(): number {
    return this.connections.filter((c) => c.connected).length;
  }

  async start(): Promise<void> {
    await this.writer.start();
    for (const c of this.connections) await c.start();
    if (this.o.sweep !== false) this.sweeping = this.sweep();
  }

  private onMessage(topic: string, payload: Buffer, retained: boolean): Promise<void> {
    this.counters.received++;
    const r = readMessage(this.o.prefix, topic, payload, this.clock.now());
    if (!r.ok) {
      this.counters.refused[r.reason]++;
      // The topic and reason only: payloads may be huge or hostile.
      this.refusals.warn({ reason: r.reason, detail: r.detail, node: r.node, bytes: payload.byteLength }, 'refused an MQTT message');
      return Promise.resolve();
    }
    if (retained && r.record.kind === 'status') r.record.retained = true;
    return this.writer.submit(r.record);
  }

  /** Publishes on the first connection that is up; resolves on PUBACK. */
  async publish(topic: string, payload: string): Promise<void> {
    const c = this.connections.find((x) => x.connected);
    if (!c) throw new Error('the hub is not connected to the MQTT broker');
    await c.publish(topic, payload, 1);
  }

  /** Reads the retained status and state of every node once, in a clean session of its own. */
  private async sweep(): Promise<void> {
    const prefix = this.o.prefix.replace(/\/+$/, '');
    let last = this.clock.monotonic();
    let connected = false;
    const conn = new IngestConnection({
      broker: this.o.broker,
      clientId: `argos-hub-${this.o.instance}-sweep`,
      filters: [`${prefix}/+/status`, `${prefix}/+/state`],
      sessionExpirySeconds: 0,
      onMessage: async (topic, payload, retained) => {
        last = this.clock.monotonic();
        // Live messages reach the shared group too; only the retained ones are the sweep's.
        if (retained) await this.onMessage(topic, payload, true);
      },
      onConnect: () => {
        connected = true;
        last = this.clock.monotonic();
      },
      log: this.o.log,
      timers: this.timers,
    });
    const quiet = this.o.sweepQuietMs ?? 1000;
    const started = this.clock.monotonic();
    try {
      await conn.start();
      while (!this.sweepAbort.signal.aborted && this.clock.monotonic() - started < 15_000 + quiet) {
        if (connected && this.clock.monotonic() - last >= quiet) break;
        await delay(Math.min(quiet, 100), this.timers, this.sweepAbort.signal);
      }
    } finally {
      await conn.stop();
    }
  }

  /** Stores what is being written, then disconnects; the rest stays with the broker. */
  async stop(): Promise<void> {
    this.sweepAbort.abort();
    await this.sweeping?.catch(() => undefined);
    await this.writer.stop();
    await stopAllSettled(
      this.connections.map((c, i) => ({ name: `mqtt-${i}`, part: c })),
      this.o.log,
    );
  }
}
