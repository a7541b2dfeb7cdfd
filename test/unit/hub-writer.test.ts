// The hub's batch writer: one write for a burst, each message settled only when its batch is
// committed, retries with backoff while the database fails (nothing settled meanwhile), and
// a stop that leaves unwritten messages to the broker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IngestWriter, WriterStoppedError } from '../../src/hub/ingest/writer.js';
import type { IngestRecord, WriteSummary } from '../../src/hub/store/records.js';
import { silentLogger } from '../../src/core/logger.js';
import { FakeTime, waitFor } from '../helpers/fake-time.js';

const rec = (i: number): IngestRecord => ({ kind: 'status', node: `n${i}`, received: i, status: 'online' });
const NONE: WriteSummary = { inserted: 0, updated: 0, duplicates: 0 };

class Sink {
  batches: IngestRecord[][] = [];
  failures = 0;
  gate: Promise<void> = Promise.resolve();
  async write(records: readonly IngestRecord[]): Promise<WriteSummary> {
    await this.gate;
    if (this.failures > 0) {
      this.failures--;
      throw new Error('database down');
    }
    this.batches.push([...records]);
    return NONE;
  }
}

void test('a burst becomes one write; each promise resolves after its batch; with one write at a time the next burst waits', async () => {
  const time = new FakeTime();
  const sink = new Sink();
  let open!: () => void;
  sink.gate = new Promise((r) => (open = r));
  const w = new IngestWriter({ store: sink, log: silentLogger(), timers: time, clock: time, maxBatch: 3, concurrency: 1 });
  const settled: number[] = [];
  const first = [1, 2, 3, 4].map((i) => w.submit(rec(i)).then(() => settled.push(i)));
  time.runImmediates();
  const second = w.submit(rec(5)).then(() => settled.push(5));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(settled, [], 'nothing settles before the commit');
  assert.equal(w.waiting, 2);
  open();
  await Promise.all([...first, second]);
  assert.deepEqual(
    sink.batches.map((b) => b.map((r) => r.node)),
    [
      ['n1', 'n2', 'n3'],
      ['n4', 'n5'],
    ],
  );
  assert.deepEqual(settled, [1, 2, 3, 4, 5]);
});

void test('two writes at a time: a burst that arrives during a write is sent at once, not after it', async () => {
  const time = new FakeTime();
  const sink = new Sink();
  let open!: () => void;
  sink.gate = new Promise((r) => (open = r));
  let started = 0;
  const w = new IngestWriter({ store: { write: (r) => (started++, sink.write(r)) }, log: silentLogger(), timers: time, clock: time });
  const first = w.submit(rec(1));
  time.runImmediates();
  const second = w.submit(rec(2));
  time.runImmediates();
  assert.equal(started, 2, 'both writes in progress');
  const third = w.submit(rec(3));
  time.runImmediates();
  assert.equal(started, 2, 'no third write while two are in progress');
  open();
  await Promise.all([first, second, third]);
  assert.deepEqual(
    sink.batches.map((b) => b.map((r) => r.node)),
    [['n1'], ['n2'], ['n3']],
  );
});

void test('a failing database: retried with growing delays, nothing settled until it works', async () => {
  const time = new FakeTime();
  const sink = new Sink();
  sink.failures = 2;
  const failed: string[] = [];
  const w = new IngestWriter({ store: sink, log: silentLogger(), timers: time, clock: time, backoff: { jitter: 0, initialMs: 100 }, onFailed: (e) => failed.push(e.message) });
  let done = false;
  const p = w.submit(rec(1)).then(() => (done = true));
  time.runImmediates();
  await waitFor(() => time.waiting.length === 1, 'the first retry timer');
  assert.deepEqual(time.waiting, [100]);
  time.advance(100);
  await waitFor(() => time.waiting.length === 1 && time.waiting[0] === 200, 'the second, longer retry timer');
  assert.equal(done, false);
  time.advance(200);
  await p;
  assert.deepEqual(failed, ['database down', 'database down']);
  assert.equal(sink.batches.length, 1);
});

void test('stop: the write in progress finishes, waiting and retrying messages are left unacknowledged, new ones refused', async () => {
  const time = new FakeTime();
  const sink = new Sink();
  sink.failures = 1;
  const w = new IngestWriter({ store: sink, log: silentLogger(), timers: time, clock: time });
  const p = w.submit(rec(1));
  time.runImmediates();
  await waitFor(() => time.waiting.length === 1, 'a retry timer');
  await w.stop();
  await assert.rejects(p, WriterStoppedError);
  await assert.rejects(w.submit(rec(2)), WriterStoppedError);
  assert.equal(sink.batches.length, 0);
});
