// The hub's own Prometheus metrics (GET /metrics): messages by kind and refusal reason, alert
// writes, batch size and ingest latency (from the alert's arrival to its commit), connections.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { VERSION } from '../core/version.js';
import type { IngestCounters } from './ingest/ingest.js';
import type { IngestRecord } from './store/records.js';

/** Read at scrape time from their owners. */
export interface HubMetricSources {
  counters: () => IngestCounters;
  connected: () => number;
  waiting: () => number;
  commands: () => { sent: number; failed: number };
}

export interface HubMetrics {
  readonly registry: Registry;
  /** A committed batch: its records and how long it took. */
  observeBatch(records: readonly IngestRecord[], now: number): void;
}

export function createHubMetrics(s: HubMetricSources, processMetrics = true): HubMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix: 'argos_hub_' });
  new Gauge({ name: 'argos_hub_info', help: 'This hub: its version.', labelNames: ['version'], registers }).set({ version: VERSION }, 1);
  new Counter({
    name: 'argos_hub_messages_stored_total',
    help: 'MQTT messages stored, by kind.',
    labelNames: ['kind'],
    registers,
    collect() {
      this.reset();
      for (const [kind, n] of Object.entries(s.counters().stored)) this.labels({ kind }).inc(n);
    },
  });
  new Counter({
    name: 'argos_hub_messages_refused_total',
    help: 'MQTT messages refused (not stored), by reason.',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(s.counters().refused)) this.labels({ reason }).inc(n);
    },
  });
  const alertWrites: [string, keyof IngestCounters][] = [
    ['inserted', 'alertsInserted'],
    ['updated', 'alertsUpdated'],
    ['duplicate', 'alertsDuplicate'],
  ];
  new Counter({
    name: 'argos_hub_alert_writes_total',
    help: 'Alert messages by what storing them did: inserted, updated (larger count), duplicate (nothing changed).',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      for (const [result, key] of alertWrites) this.labels({ result }).inc(Number(s.counters()[key]));
    },
  });
  new Counter({
    name: 'argos_hub_write_failures_total',
    help: 'Database writes that failed (retried).',
    registers,
    collect() {
      this.reset();
      this.inc(s.counters().writeFailures);
    },
  });
  new Gauge({ name: 'argos_hub_mqtt_connections', help: 'MQTT connections up.', registers, collect() { this.set(s.connected()); } });
  new Gauge({ name: 'argos_hub_ingest_waiting', help: 'Messages received and waiting for a database write.', registers, collect() { this.set(s.waiting()); } });
  new Counter({
    name: 'argos_hub_commands_total',
    help: 'Commands published to nodes, and commands that could not be published.',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      this.labels({ result: 'sent' }).inc(s.commands().sent);
      this.labels({ result: 'failed' }).inc(s.commands().failed);
    },
  });
  const batch = new Histogram({ name: 'argos_hub_write_batch_size', help: 'Messages per database write.', buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500], registers });
  const latency = new Histogram({
    name: 'argos_hub_ingest_latency_seconds',
    help: 'From the moment a message arrived to the commit that stored it.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5],
    registers,
  });
  return {
    registry,
    observeBatch(records, now) {
      batch.observe(records.length);
      for (const r of records) latency.observe(Math.max(0, now - r.received) / 1000);
    },
  };
}
