import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/core/logger.js';
import { OutboxLoop } from '../../src/reporters/outbox.js';
import type { Reporter, SendResult } from '../../src/reporters/reporter.js';
import { SqliteStore } from '../../src/store/store.js';
import { RetentionTask } from '../../src/store/retention.js';
import { makeAlert } from '../helpers/alerts.js';
import { FakeTime, waitFor } from '../helpers/fake-time.js';
import type { OutboxMessage } from '../../src/core/storage.js';

/** A reporter that answers from a script (then `delivered`), recording every attempt. */
class ScriptedReporter implements Reporter {
  readonly name = 'r';
  attempts: string[] = [];
  delivered: string[] = [];
  script: SendResult[] = [];
  private ready: (() => void) | undefined;
  constructor(readonly maxInFlight = 1) {}
  async send(m: OutboxMessage): Promise<SendResult> {
    this.attempts.push(m.alertId);
    const r = this.script.shift() ?? { kind: 'delivered' };
    if (r.kind === 'delivered') this.delivered.push(m.alertId);
    return r;
  }
  onReady(cb: () => void): void {
    this.ready = cb;
  }
  becomeReady(): void {
    this.ready?.();
  }
}

async function setup(reporter = new ScriptedReporter()) {
  const time = new FakeTime();
  const store = new SqliteStore({ path: ':memory:', clock: time });
  await store.start();
  const loop = new OutboxLoop({ store, reporter, log: silentLogger(), timers: time, backoff: { initialMs: 1000, maxMs: 8000, jitter: 0 } });
  let n = 0;
  const add = (count = 1): void => {
    for (let i = 0; i < count; i++) store.saveAlert(makeAlert(n++, time.now()), ['r']);
    loop.wake();
  };
  const close = async (): Promise<void> => {
    await loop.stop();
    await store.stop();
    assert.deepEqual(time.waiting, [], 'no timers left');
  };
  return { time, store, loop, reporter, add, close };
}

void test('messages go out in order, are marked delivered, and new ones wake the idle loop', async () => {
  const t = await setup();
  t.add(3);
  await t.loop.start();
  await waitFor(() => t.reporter.delivered.length === 3, 'first three');
  assert.equal(t.store.outboxDepth('r'), 0);
  t.add(2);
  await waitFor(() => t.reporter.delivered.length === 5, 'two more');
  assert.deepEqual(t.reporter.attempts, ['alert-000000', 'alert-000001', 'alert-000002', 'alert-000003', 'alert-000004']);
  assert.equal(t.loop.deliveredCount, 5);
  await t.close();
});

void test('failures back off exponentially up to the cap, keep order, and nothing is sent twice once delivered', async () => {
  const t = await setup();
  const down: SendResult = { kind: 'retry', reason: 'broker down' };
  t.reporter.script = [{ kind: 'delivered' }, down, down, down, down, down];
  t.add(3);
  await t.loop.start();
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    await waitFor(() => t.time.waiting.length === 1, `backoff ${i}`);
    delays.push(t.time.waiting[0]);
    t.time.advance(t.time.waiting[0]);
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000]);
  await waitFor(() => t.store.outboxDepth('r') === 0, 'all delivered');
  assert.deepEqual(t.reporter.delivered, ['alert-000000', 'alert-000001', 'alert-000002']);
  assert.deepEqual(t.reporter.attempts.slice(1, 7), Array(6).fill('alert-000001'), 'retries the same message, in order');
  await t.close();
});

void test("the receiver's Retry-After is honoured", async () => {
  const t = await setup();
  t.reporter.script = [{ kind: 'retry', reason: '429', afterMs: 30_000 }];
  t.add(1);
  await t.loop.start();
  await waitFor(() => t.time.waiting.length === 1, 'backoff');
  assert.deepEqual(t.time.waiting, [30_000]);
  t.time.advance(30_000);
  await waitFor(() => t.reporter.delivered.length === 1, 'delivered');
  await t.close();
});

void test('a refused message is retried, then given up as dead, and the loop moves on', async () => {
  const t = await setup();
  const no: SendResult = { kind: 'rejected', reason: 'HTTP 400' };
  t.reporter.script = [no, no, no];
  t.add(2);
  await t.loop.start();
  for (let i = 0; i < 2; i++) {
    await waitFor(() => t.time.waiting.length === 1, `backoff ${i}`);
    t.time.advance(t.time.waiting[0]);
  }
  await waitFor(() => t.store.outboxDepth('r') === 0, 'outbox settled');
  assert.deepEqual(t.reporter.attempts, ['alert-000000', 'alert-000000', 'alert-000000', 'alert-000001']);
  assert.deepEqual(t.reporter.delivered, ['alert-000001']);
  await t.close();
});

void test('a reporter that becomes ready cuts the backoff short', async () => {
  const t = await setup();
  t.reporter.script = Array(4).fill({ kind: 'retry', reason: 'offline' });
  t.add(1);
  await t.loop.start();
  for (let i = 0; i < 3; i++) {
    await waitFor(() => t.time.waiting.length === 1, 'backoff');
    t.time.advance(t.time.waiting[0]);
  }
  await waitFor(() => t.time.waiting.length === 1, 'long backoff');
  assert.deepEqual(t.time.waiting, [8000]);
  t.reporter.becomeReady();
  await waitFor(() => t.reporter.delivered.length === 1, 'delivered without waiting');
  await t.close();
});

void test('several in flight: all acknowledged ones are marked even when one fails', async () => {
  const t = await setup(new ScriptedReporter(4));
  // Slow start: 1, then 2, then 4 at once; the fifth message fails in the third chunk.
  const ok = { kind: 'delivered' } as const;
  t.reporter.script = [ok, ok, ok, ok, { kind: 'retry', reason: 'x' }, ok, ok];
  t.add(7);
  await t.loop.start();
  await waitFor(() => t.time.waiting.length === 1, 'backoff');
  assert.equal(t.store.outboxDepth('r'), 1);
  t.time.advance(t.time.waiting[0]);
  await waitFor(() => t.store.outboxDepth('r') === 0, 'rest delivered');
  assert.deepEqual(t.reporter.attempts, ['alert-000000', 'alert-000001', 'alert-000002', 'alert-000003', 'alert-000004', 'alert-000005', 'alert-000006', 'alert-000004']);
  await t.close();
});

void test('slow start: after a failure one message goes alone, then 2, 4 ... up to maxInFlight', async () => {
  class Counting extends ScriptedReporter {
    inFlight = 0;
    widths: number[] = [];
    override async send(m: OutboxMessage): Promise<SendResult> {
      this.inFlight++;
      this.widths.push(this.inFlight);
      await new Promise((r) => setImmediate(r));
      this.inFlight--;
      return super.send(m);
    }
  }
  const reporter = new Counting(8);
  const t = await setup(reporter);
  reporter.script = [{ kind: 'retry', reason: 'link dropped' }];
  t.add(20);
  await t.loop.start();
  await waitFor(() => t.time.waiting.length === 1, 'backoff after the failure');
  t.time.advance(t.time.waiting[0]);
  await waitFor(() => t.store.outboxDepth('r') === 0, 'all delivered');
  // Highest concurrency seen per chunk: 1 (failed), then 1, 2, 4, 8 and the last 5.
  const peaks: number[] = [];
  let i = 0;
  for (const w of [1, 1, 2, 4, 8, 5]) {
    peaks.push(Math.max(...reporter.widths.slice(i, i + w)));
    i += w;
  }
  assert.deepEqual(peaks, [1, 1, 2, 4, 8, 5]);
  await t.close();
});

void test('drain resolves true once empty and false at its deadline', async () => {
  const t = await setup();
  t.reporter.script = Array(10).fill({ kind: 'retry', reason: 'down' });
  await t.loop.start();
  assert.equal(await t.loop.drain(1000), true, 'empty outbox');
  t.add(1);
  const draining = t.loop.drain(5000);
  await waitFor(() => t.time.waiting.length === 2, 'backoff and deadline');
  t.time.advance(5000);
  assert.equal(await draining, false);
  t.reporter.script = [];
  t.time.advance(10_000);
  assert.equal(await t.loop.drain(60_000), true);
  await t.close();
});

void test('retention runs at start and then on its interval', async () => {
  const time = new FakeTime();
  const store = new SqliteStore({ path: ':memory:', clock: time });
  await store.start();
  const task = new RetentionTask({ store, maxAgeMs: 100_000, maxBytes: Number.MAX_SAFE_INTEGER, log: silentLogger(), intervalMs: 60_000, timers: time, clock: time });
  store.saveAlert(makeAlert(1, time.now() - 200_000), []);
  await task.start();
  assert.equal(store.listAlerts(0, 10).length, 0, 'removed at start');
  store.saveAlert(makeAlert(2, time.now()), []);
  time.advance(59_000);
  assert.equal(store.listAlerts(0, 10).length, 1);
  time.advance(2_000);
  assert.equal(store.listAlerts(0, 10).length, 1, 'not old enough at the first run');
  time.advance(60_000);
  assert.equal(store.listAlerts(0, 10).length, 0, 'removed at the second run');
  await task.stop();
  assert.deepEqual(time.waiting, []);
  await store.stop();
});
