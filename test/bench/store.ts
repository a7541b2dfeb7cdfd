// Benchmark: the cost of the alert path on one core.
//
//   node --import tsx test/bench/store.ts [--json] [--n N]
//
// - `saveAlert`: alerts committed per second (alert + 2 outbox rows in one transaction,
//   WAL, synchronous=FULL, on a temporary file: bound by fsync on this disk).
// - `verdicts`: below-threshold verdicts per second through the Alerter (the hot path for
//   every scored window: process bookkeeping only), 1000 distinct processes.
// - `fold`: anomalies folded into an open alert per second (a burst from one binary).
// - `outbox`: messages read and marked delivered per second (batches of 50).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Alerter } from '../../src/alerter/alerter.js';
import { Counters } from '../../src/core/counters.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ProcessInfo } from '../../src/core/types.js';
import { SqliteStore } from '../../src/store/store.js';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, n: { type: 'string', default: '2000' } } });
const n = Number(values.n);
const dir = mkdtempSync(join(tmpdir(), 'argos-bench-store-'));
const store = new SqliteStore({ path: join(dir, 'bench.db') });
await store.start();

function rate(count: number, fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Math.round(count / (Number(process.hrtime.bigint() - t0) / 1e9));
}

const proc = (i: number): ProcessInfo => ({ execId: `e${i}`, pid: i, binary: `/usr/bin/b${i}`, arguments: `--x ${i}` });
const counters = new Counters();
const alerter = new Alerter({ store, reporters: ['mqtt', 'ntfy'], node: 'bench', model: { name: 'm', threshold: 0.5 }, throttleWindowMs: 3_600_000, throttleMax: 1e9, counters, log: silentLogger() });
const tokens = new Int32Array(1024);
const verdict = (p: ProcessInfo, score: number): void => alerter.verdict({ window: { process: p, tokens, seq: 0, final: false, at: 0 }, score });

const saveAlert = rate(n, () => {
  for (let i = 0; i < n; i++) verdict(proc(i), 0.9);
});
const procs = Array.from({ length: 1000 }, (_, i) => proc(i));
const verdicts = rate(1_000_000, () => {
  for (let i = 0; i < 1_000_000; i++) verdict(procs[i % 1000], 0.1);
});
const fold = rate(1_000_000, () => {
  for (let i = 0; i < 1_000_000; i++) verdict(procs[0], 0.9);
});
const pending = store.outboxDepth('mqtt');
const outbox = rate(pending, () => {
  for (;;) {
    const batch = store.pendingOutbox('mqtt', 50);
    if (batch.length === 0) break;
    store.markDelivered(batch.map((m) => m.id));
  }
});
alerter.sweep();
await store.stop();
rmSync(dir, { recursive: true, force: true });

const result = { saveAlertPerSec: saveAlert, verdictsPerSec: verdicts, foldPerSec: fold, outboxPerSec: outbox, alerts: n };
if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
else for (const [k, v] of Object.entries(result)) process.stdout.write(`${k.padEnd(16)} ${v.toLocaleString('en')}\n`);
