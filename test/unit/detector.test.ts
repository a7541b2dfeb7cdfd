import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Detector } from '../../src/detector/detector.js';
import { FakeTime } from '../helpers/fake-time.js';
import { Counters } from '../../src/core/counters.js';
import type { Classifier, SyscallWindow, Verdict } from '../../src/core/types.js';

/** A classifier whose calls the test completes by hand; the score of a window is its first token. */
class GatedClassifier implements Classifier {
  calls: { sizes: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  closed = false;
  autoResolve = false;

  score(windows: readonly Int32Array[]): Promise<Float32Array> {
    const scores = Float32Array.from(windows, (w) => w[0]);
    return new Promise<Float32Array>((resolve, reject) => {
      const call = { sizes: windows.length, resolve: () => resolve(scores), reject };
      this.calls.push(call);
      if (this.autoResolve) call.resolve();
    });
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** Lets promise callbacks run, then runs pending immediates, until `cond` holds (bounded). */
async function until(timers: FakeTime, cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise<void>((r) => setImmediate(r));
    timers.runImmediates();
  }
  assert.fail(`condition not reached: ${what}`);
}

/** Drains the detector while driving the fake immediates. */
async function drained(timers: FakeTime, d: Detector): Promise<boolean> {
  let result: boolean | undefined;
  void d.drain(1000).then((v) => (result = v));
  await until(timers, () => result !== undefined, 'drain settled');
  return result as boolean;
}

function win(token: number, execId = 'p1', seq = 0): SyscallWindow {
  return {
    process: { execId, pid: 1, binary: '/bin/x', arguments: '' },
    tokens: Int32Array.from([token, 2, 3]),
    seq,
    final: false,
    at: 0,
  };
}

function setup(over: { batchSize?: number; queueMax?: number; maxInFlight?: number; drainTimeoutMs?: number } = {}) {
  const classifier = new GatedClassifier();
  const timers = new FakeTime();
  const counters = new Counters();
  const verdicts: Verdict[] = [];
  const logs: { msg: string; level: number }[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s) as { msg: string; level: number }) });
  const batches: [number, number][] = [];
  const detector = new Detector({
    classifier,
    sink: { verdict: (v) => void verdicts.push(v) },
    counters,
    log,
    batchSize: over.batchSize ?? 4,
    queueMax: over.queueMax ?? 100,
    maxInFlight: over.maxInFlight ?? 1,
    drainTimeoutMs: over.drainTimeoutMs ?? 1000,
    clock: timers,
    timers,
    onBatch: (ms, size) => void batches.push([ms, size]),
  });
  return { classifier, timers, counters, verdicts, logs, detector, batches };
}

void test('a lone window is classified at the next tick, not held back for a full batch', async () => {
  const s = setup({ batchSize: 64 });
  await s.detector.start();
  s.detector.window(win(7));
  assert.equal(s.classifier.calls.length, 0, 'nothing is classified synchronously');
  s.timers.runImmediates();
  assert.equal(s.classifier.calls.length, 1);
  assert.equal(s.classifier.calls[0].sizes, 1);
  s.timers.advance(3);
  s.classifier.calls[0].resolve();
  await until(s.timers, () => s.verdicts.length === 1, 'verdict delivered');
  assert.equal(s.verdicts[0].score, 7);
  assert.equal(s.verdicts[0].window.process.execId, 'p1');
  assert.equal(s.counters.classified, 1);
  assert.deepEqual(s.batches, [[3, 1]]);
  assert.deepEqual({ ...s.detector.stats }, { batches: 1, windows: 1, totalMs: 3, maxMs: 3, failedBatches: 0 });
});

void test('a burst fills batches across processes, with at most maxInFlight calls running', async () => {
  const s = setup({ batchSize: 64, maxInFlight: 2 });
  await s.detector.start();
  for (let i = 0; i < 150; i++) s.detector.window(win(i, `p${i % 7}`, i));
  // Two full batches started right away; the rest waits for a free slot.
  assert.deepEqual(s.classifier.calls.map((c) => c.sizes), [64, 64]);
  assert.equal(s.detector.queued, 22);
  s.timers.runImmediates();
  assert.equal(s.classifier.calls.length, 2, 'no third call while two run');
  s.classifier.calls[0].resolve();
  await until(s.timers, () => s.classifier.calls.length === 3, 'third batch started');
  assert.equal(s.classifier.calls[2].sizes, 22);
  s.classifier.calls[1].resolve();
  s.classifier.calls[2].resolve();
  await until(s.timers, () => s.verdicts.length === 150, 'all verdicts');
  // Every window got its own score back, in order.
  assert.deepEqual(s.verdicts.map((v) => v.score), Array.from({ length: 150 }, (_, i) => i));
  assert.equal(s.counters.classified, 150);
  assert.equal(s.counters.shed, 0);
});

void test('a full queue sheds new windows, counts them, and never blocks the caller', async () => {
  const s = setup({ batchSize: 4, queueMax: 10, maxInFlight: 1 });
  await s.detector.start();
  for (let i = 0; i < 30; i++) s.detector.window(win(i));
  // 4 went to the classifier, 10 wait, 16 were shed.
  assert.equal(s.classifier.calls.length, 1);
  assert.equal(s.detector.queued, 10);
  assert.equal(s.counters.shed, 16);
  const warnings = s.logs.filter((l) => l.msg.includes('shedding'));
  assert.equal(warnings.length, 1, 'shedding is logged once per interval, not per window');
  s.classifier.autoResolve = true;
  s.classifier.calls[0].resolve();
  assert.equal(await drained(s.timers, s.detector), true);
  assert.equal(s.counters.classified, 14);
  assert.deepEqual(s.verdicts.map((v) => v.score), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  // Room again after draining.
  s.detector.window(win(99));
  assert.equal(await drained(s.timers, s.detector), true);
  assert.equal(s.counters.shed, 16);
  assert.equal(s.verdicts.at(-1)?.score, 99);
});

void test('a failing batch is logged and counted; later batches are still classified', async () => {
  const s = setup({ batchSize: 2 });
  await s.detector.start();
  s.detector.window(win(1));
  s.detector.window(win(2));
  s.classifier.calls[0].reject(new Error('model exploded'));
  await until(s.timers, () => s.detector.running === 0, 'failed batch finished');
  assert.equal(s.counters.classifyFailed, 2);
  assert.equal(s.detector.stats.failedBatches, 1);
  const err = s.logs.find((l) => l.msg.includes('classifying a batch failed'));
  assert.ok(err, 'the failure is logged');
  s.classifier.autoResolve = true;
  s.detector.window(win(3));
  assert.equal(await drained(s.timers, s.detector), true);
  assert.deepEqual(s.verdicts.map((v) => v.score), [3]);
  assert.equal(s.counters.classified, 1);
});

void test('a classifier that returns the wrong number of scores counts as a failed batch', async () => {
  const s = setup({ batchSize: 2 });
  const bad: Classifier = { score: () => Promise.resolve(new Float32Array(1)), close: () => Promise.resolve() };
  const d = new Detector({ classifier: bad, sink: { verdict: (v) => void s.verdicts.push(v) }, counters: s.counters, log: pino({ level: 'silent' }), batchSize: 2, queueMax: 10, clock: s.timers, timers: s.timers });
  await d.start();
  d.window(win(1));
  d.window(win(2));
  await until(s.timers, () => d.running === 0, 'batch finished');
  assert.equal(s.verdicts.length, 0);
  assert.equal(s.counters.classifyFailed, 2);
});

void test('a throwing verdict sink does not stop the other verdicts', async () => {
  const s = setup({ batchSize: 3 });
  const seen: number[] = [];
  const d = new Detector({
    classifier: s.classifier,
    sink: {
      verdict: (v) => {
        if (v.score === 2) throw new Error('sink broke');
        seen.push(v.score);
      },
    },
    counters: s.counters,
    log: pino({ level: 'silent' }),
    batchSize: 3,
    queueMax: 10,
    clock: s.timers,
    timers: s.timers,
  });
  s.classifier.autoResolve = true;
  await d.start();
  for (const t of [1, 2, 3]) d.window(win(t));
  assert.equal(await drained(s.timers, d), true);
  assert.deepEqual(seen, [1, 3]);
  assert.equal(s.counters.classified, 3);
});

void test('drain resolves false when the classifier does not finish in time', async () => {
  const s = setup();
  await s.detector.start();
  s.detector.window(win(1));
  s.timers.runImmediates();
  const pending = s.detector.drain(500);
  s.timers.advance(499);
  let done: boolean | undefined;
  void pending.then((v) => (done = v));
  await until(s.timers, () => true, 'yield');
  assert.equal(done, undefined, 'still waiting before the timeout');
  s.timers.advance(1);
  assert.equal(await pending, false);
  s.classifier.calls[0].resolve();
  assert.equal(await drained(s.timers, s.detector), true);
});

void test('windows queued before start are classified once started', async () => {
  const s = setup();
  s.detector.window(win(5));
  s.timers.runImmediates();
  assert.equal(s.classifier.calls.length, 0);
  s.classifier.autoResolve = true;
  await s.detector.start();
  assert.equal(await drained(s.timers, s.detector), true);
  assert.deepEqual(s.verdicts.map((v) => v.score), [5]);
});

void test('stop classifies what is queued, then closes the classifier; later windows are shed', async () => {
  const s = setup({ batchSize: 4 });
  s.classifier.autoResolve = true;
  await s.detector.start();
  for (let i = 0; i < 6; i++) s.detector.window(win(i));
  const stopped = s.detector.stop();
  await until(s.timers, () => s.classifier.closed, 'classifier closed');
  await stopped;
  assert.equal(s.verdicts.length, 6);
  assert.equal(s.classifier.closed, true);
  s.detector.window(win(9));
  assert.equal(s.counters.shed, 1);
  await s.detector.stop(); // idempotent
});

void test('stop gives up after the drain timeout, counts what it dropped, and still closes', async () => {
  const s = setup({ batchSize: 2, maxInFlight: 1, drainTimeoutMs: 100 });
  await s.detector.start();
  for (let i = 0; i < 5; i++) s.detector.window(win(i));
  const stopped = s.detector.stop();
  await until(s.timers, () => s.timers.pendingImmediates === 0, 'flush ran');
  s.timers.advance(100);
  // The queue (3 windows) is dropped; the running call gets its own bounded wait.
  await until(s.timers, () => s.counters.shed === 3, 'queue dropped');
  s.timers.advance(100);
  await stopped;
  assert.equal(s.classifier.closed, true);
  assert.ok(s.logs.some((l) => l.msg.includes('dropped')));
});

void test('invalid sizes are rejected at construction', () => {
  const s = setup();
  assert.throws(() => new Detector({ classifier: s.classifier, sink: { verdict: () => {} }, counters: s.counters, log: pino({ level: 'silent' }), batchSize: 0, queueMax: 1 }), /batchSize/);
  assert.throws(() => new Detector({ classifier: s.classifier, sink: { verdict: () => {} }, counters: s.counters, log: pino({ level: 'silent' }), batchSize: 1, queueMax: 0 }), /queueMax/);
});

void test('without maxInFlight, calls in flight follow the classifier concurrency plus one', async () => {
  for (const concurrency of [undefined, 3]) {
    const classifier = new GatedClassifier();
    const c: Classifier = { score: (w) => classifier.score(w), close: () => classifier.close(), concurrency };
    const d = new Detector({ classifier: c, sink: { verdict: () => {} }, counters: new Counters(), log: pino({ level: 'silent' }), batchSize: 1, queueMax: 100, timers: new FakeTime() });
    await d.start();
    for (let i = 0; i < 10; i++) d.window(win(i));
    assert.equal(d.running, (concurrency ?? 1) + 1);
    for (const call of classifier.calls) call.resolve();
  }
});

void test('each window is scored by its process\'s profile; only windows at the threshold are asked why', async () => {
  const seen: { profiles: number[]; explained: number[][] } = { profiles: [], explained: [] };
  const classifier: Classifier = {
    score: async (windows, profiles) => {
      seen.profiles.push(...(profiles ?? []));
      return Float32Array.from(windows, (w) => w[0]);
    },
    surprisals: async (windows, profiles) => {
      seen.explained.push([...(profiles ?? [])]);
      return windows.map((w) => Float32Array.from(w, (_, i) => (i === 1 ? 9 : 0.5)));
    },
    close: async () => undefined,
  };
  const verdicts: Verdict[] = [];
  const time = new FakeTime();
  const profileOf = (p: { binary: string }): number => (p.binary === '/bin/hot' ? 2 : 1);
  const d = new Detector({ classifier, sink: { verdict: (v) => void verdicts.push(v) }, counters: new Counters(), log: pino({ level: 'silent' }), batchSize: 8, queueMax: 10, clock: time, timers: time, profileOf, explain: { threshold: 5, names: ['', 'unknown', 'read', 'socket', 'connect'] } });
  await d.start();
  const w = (first: number, binary: string): SyscallWindow => ({ process: { execId: binary, pid: 1, binary, arguments: '' }, tokens: Int32Array.from([first, 3, 4]), seq: 0, final: false, at: 0 });
  d.window(w(7, '/bin/hot'));
  d.window(w(2, '/bin/cold'));
  time.runImmediates();
  for (let i = 0; i < 50 && verdicts.length < 2; i++) await new Promise<void>((r) => setImmediate(r));
  assert.deepEqual(seen.profiles, [2, 1]);
  assert.deepEqual(seen.explained, [[2]], 'only the window at the threshold, with its profile');
  assert.deepEqual(verdicts.map((v) => [v.score, v.why]), [
    [7, [{ calls: 'unknown socket', surprisal: 9 }]],
    [2, undefined],
  ]);
  await d.stop();
});

void test('swap: windows cut before finish on the model they were cut for; the old classifier closes after its last one', async () => {
  const { classifier: old, timers, verdicts, detector } = setup({ batchSize: 2, maxInFlight: 1 });
  await detector.start();
  detector.window(win(5, 'p1', 0));
  detector.window(win(6, 'p1', 1));
  timers.runImmediates();
  await until(timers, () => old.calls.length === 1, 'first batch in flight on the old model');
  detector.window(win(7, 'p1', 2)); // queued behind the batch in flight, still for the old model
  const next = new GatedClassifier();
  next.autoResolve = true;
  let retired = false;
  void detector.swap({ classifier: next, name: 'device-v1', threshold: 9 }).then(() => (retired = true));
  detector.window(win(8, 'p2', 0)); // cut after the swap: the new model
  assert.equal(old.closed, false, 'windows of the old model are still waiting');
  old.autoResolve = true;
  old.calls[0]?.resolve();
  await until(timers, () => verdicts.length === 4, 'every window scored');
  await until(timers, () => retired, 'the old model retired');
  assert.equal(old.closed, true);
  assert.equal(next.closed, false);
  assert.deepEqual(
    verdicts.map((v) => [v.score, v.model ?? null]),
    [
      [5, null],
      [6, null],
      [7, null],
      [8, 'device-v1'],
    ],
  );
  assert.equal(verdicts[3]?.threshold, 9, 'verdicts carry the threshold of the model that scored them');
  assert.equal(detector.current.classifier, next);
  await detector.stop();
});
