import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Alerter } from '../../src/alerter/alerter.js';
import { Counters } from '../../src/core/counters.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ProcessInfo, Verdict } from '../../src/core/types.js';
import { SqliteStore } from '../../src/store/store.js';
import { anomaly, makeProcess } from '../helpers/alerts.js';
import { FakeTime } from '../helpers/fake-time.js';
import { uuidv7, type Alert, type AnomalyAlert } from '../../src/core/alert.js';

const WINDOW_MS = 60_000;

async function setup(extra: { throttleMax?: number; threshold?: number } = {}) {
  const time = new FakeTime(Date.UTC(2025, 5, 1, 12));
  const store = new SqliteStore({ path: ':memory:', clock: time });
  await store.start();
  const counters = new Counters();
  const queued: number[] = [];
  const alerter = new Alerter({
    store,
    reporters: ['mqtt', 'ntfy'],
    node: 'edge-1',
    model: { name: 'ngram-v1', threshold: 0.5 },
    threshold: extra.threshold,
    throttleWindowMs: WINDOW_MS,
    throttleMax: extra.throttleMax ?? 100,
    counters,
    log: silentLogger(),
    onQueued: (a) => queued.push(a.count),
    clock: time,
    timers: time,
  });
  await alerter.start();
  const verdict = (p: ProcessInfo, score: number, seq = 0): void => alerter.verdict({ window: { process: p, tokens: new Int32Array(32), seq, final: false, at: time.now() }, score } satisfies Verdict);
  const payloads = (reporter: string): AnomalyAlert[] => store.pendingOutbox(reporter, 1000).map((m) => anomaly(JSON.parse(m.payload) as Alert));
  return { time, store, counters, alerter, verdict, payloads, queued: () => queued };
}

void test('a verdict below the threshold raises nothing but records the process', async () => {
  const t = await setup();
  t.verdict(makeProcess(1), 0.49);
  assert.equal(t.store.listAlerts(0, 10).length, 0);
  assert.equal(t.store.getProcess('exec-1'), undefined, 'written in batches');
  t.time.advance(1000);
  assert.equal(t.store.getProcess('exec-1')?.process.binary, '/usr/bin/tool1');
  assert.equal(t.counters.anomalies, 0);
  await t.alerter.stop();
  await t.store.stop();
});

void test('an alert has the documented JSON and is queued for every reporter at once', async () => {
  const t = await setup();
  const p = makeProcess(7, { pod: { namespace: 'shop', name: 'cart-5d8', container: 'app', image: 'cart:1' } });
  t.verdict(p, 0.93, 4);
  const [a] = t.store.listAlerts(0, 10);
  assert.match(a.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual(a, {
    id: a.id,
    node: 'edge-1',
    time: '2025-06-01T12:00:00.000Z',
    kind: 'anomaly',
    process: { pid: 1007, exec_id: 'exec-7', binary: '/usr/bin/tool7', arguments: '--run 7' },
    pod: { namespace: 'shop', name: 'cart-5d8', container: 'app', image: 'cart:1' },
    program: 'cart:/usr/bin/tool7',
    model: 'ngram-v1',
    priority: 5,
    score: 0.93,
    threshold: 0.5,
    window: { seq: 4, length: 32 },
    why: [],
    count: 1,
  });
  assert.deepEqual(t.payloads('mqtt'), [a]);
  assert.deepEqual(t.payloads('ntfy'), [a]);
  assert.deepEqual(t.queued(), [1]);
  assert.ok(t.store.getProcess('exec-7'), 'the process is stored before its alert');
  await t.alerter.stop();
  await t.store.stop();
});

void test('a burst from one binary becomes one alert with a count; the final count is sent when the window closes', async () => {
  const t = await setup();
  const scores = [0.6, 0.9, 0.7, 0.8, 0.55];
  for (const [i, s] of scores.entries()) {
    t.verdict(makeProcess(1, { pid: 10 + i, execId: `x${i}` }), s); // same binary, new processes
    t.time.advance(5000);
  }
  assert.deepEqual(
    [t.counters.anomalies, t.counters.alerts, t.counters.throttled],
    [5, 1, 4],
  );
  const stored = anomaly(t.store.listAlerts(0, 10)[0]);
  assert.equal(stored.count, 5, 'folded repeats reach the store at each sweep');
  assert.equal(stored.score, 0.9);
  assert.deepEqual(t.payloads('mqtt').map((a) => a.count), [1], 'repeats are not sent one by one');
  t.time.advance(WINDOW_MS);
  const sent = t.payloads('mqtt');
  assert.deepEqual(sent.map((a) => [a.id, a.count, a.score]), [
    [stored.id, 1, 0.6],
    [stored.id, 5, 0.9],
  ]);
  assert.equal(t.alerter.openAlerts, 0);
  assert.deepEqual(t.queued(), [1, 5], 'reporters were woken for the alert and its final count');
  // After the window a new burst is a new alert.
  t.verdict(makeProcess(1), 0.7);
  assert.equal(t.store.listAlerts(0, 10).length, 2);
  await t.alerter.stop();
  await t.store.stop();
});

void test('after throttleMax repeats the next anomaly raises a new alert', async () => {
  const t = await setup({ throttleMax: 2 });
  for (let i = 0; i < 7; i++) t.verdict(makeProcess(1), 0.8);
  t.time.advance(1000);
  const counts = t.store.listAlerts(0, 10).map((a) => a.count).reverse();
  assert.deepEqual(counts, [3, 3, 1]);
  assert.equal(t.counters.alerts, 3);
  assert.equal(t.counters.throttled, 4);
  await t.alerter.stop();
  await t.store.stop();
});

void test('different binaries, and the same binary in different pods, are throttled apart', async () => {
  const t = await setup();
  t.verdict(makeProcess(1), 0.8);
  t.verdict(makeProcess(2), 0.8);
  t.verdict(makeProcess(1, { pod: { namespace: 'a', name: 'p1' } }), 0.8);
  t.verdict(makeProcess(1, { pod: { namespace: 'a', name: 'p2' } }), 0.8);
  t.verdict(makeProcess(1, { pod: { namespace: 'a', name: 'p2' } }), 0.8);
  assert.equal(t.store.listAlerts(0, 10).length, 4);
  await t.alerter.stop();
  await t.store.stop();
});

void test('the threshold comes from the card unless overridden; NaN never alerts', async () => {
  const t = await setup({ threshold: 0.95 });
  assert.equal(t.alerter.threshold, 0.95);
  t.verdict(makeProcess(1), 0.9);
  t.verdict(makeProcess(1), Number.NaN);
  assert.equal(t.store.listAlerts(0, 10).length, 0);
  t.verdict(makeProcess(1), 0.95);
  assert.equal(anomaly(t.store.listAlerts(0, 10)[0]).threshold, 0.95);
  await t.alerter.stop();
  await t.store.stop();
});

void test('stop queues the final counts of open alerts and writes pending processes', async () => {
  const t = await setup();
  t.verdict(makeProcess(1), 0.8);
  t.verdict(makeProcess(1), 0.8);
  t.verdict(makeProcess(2), 0.1);
  await t.alerter.stop();
  assert.deepEqual(t.payloads('ntfy').map((a) => a.count), [1, 2]);
  assert.ok(t.store.getProcess('exec-2'));
  assert.deepEqual(t.time.waiting, [], 'no timer left behind');
  await t.store.stop();
});

void test('a failing store is logged, not thrown into the detector', async () => {
  const t = await setup();
  await t.store.stop();
  assert.doesNotThrow(() => t.verdict(makeProcess(1), 0.9));
  assert.equal(t.counters.anomalies, 1);
  assert.equal(t.counters.alerts, 0);
  await t.alerter.stop();
});

void test('uuidv7 ids sort by time and carry the version bits', () => {
  const a = uuidv7(1_700_000_000_000);
  const b = uuidv7(1_700_000_000_001);
  assert.ok(a < b);
  assert.equal(a.slice(0, 13), '018bcfe5-6800');
  assert.equal(a[14], '7');
});

void test('a new program is one alert of its own kind; its later starts fold in for an hour', async () => {
  const t = await setup();
  const p = { ...makeProcess(3, { binary: '/tmp/.x/implant', parent: { pid: 7, execId: 'exec-7', binary: '/bin/sh' } }) };
  t.alerter.newProgram(p, '/tmp/.x/implant', 'a temporary folder (/tmp)');
  t.alerter.newProgram({ ...p, execId: 'exec-9', pid: 1009 }, '/tmp/.x/implant', 'a temporary folder (/tmp)');
  const [a] = t.store.listAlerts(0, 10);
  assert.equal(a.kind, 'new_program');
  assert.ok(a.kind === 'new_program');
  assert.deepEqual(
    { priority: a.priority, writable: a.writable, program: a.program, parent: a.process.parent, reason: a.reason },
    { priority: 5, writable: true, program: '/tmp/.x/implant', parent: { pid: 7, exec_id: 'exec-7', binary: '/bin/sh' }, reason: 'first start of a program the model never saw, run from a temporary folder (/tmp)' },
  );
  assert.equal(t.counters.newPrograms, 1);
  t.time.advance(WINDOW_MS * 2);
  t.alerter.newProgram({ ...p, execId: 'exec-10' }, '/tmp/.x/implant', 'a temporary folder (/tmp)');
  assert.equal(t.store.listAlerts(0, 10).length, 1, 'still folded after the anomaly throttle window');
  t.time.advance(3_600_000);
  assert.equal(t.store.listAlerts(0, 10)[0].count, 3, 'the final count is stored when the hour is over');
  t.alerter.newProgram({ ...p, execId: 'exec-11' }, '/tmp/.x/implant', 'a temporary folder (/tmp)');
  assert.equal(t.store.listAlerts(0, 10).length, 2, 'an hour later it is reported again');
  await t.alerter.stop();
  await t.store.stop();
});

void test('an anomaly alert carries why, and a system program new to the model has high (not urgent) priority', async () => {
  const t = await setup();
  const why = [{ calls: 'socket connect dup2 dup2 execve', surprisal: 9.1 }];
  t.alerter.verdict({ window: { process: makeProcess(1), tokens: new Int32Array(8), seq: 0, final: false, at: 0 }, score: 0.9, why });
  assert.deepEqual(anomaly(t.store.listAlerts(0, 10)[0]).why, why);
  t.alerter.newProgram(makeProcess(2, { binary: '/usr/sbin/useradd' }), '/usr/sbin/useradd', undefined);
  const n = t.store.listAlerts(0, 10).find((a) => a.kind === 'new_program');
  assert.equal(n?.priority, 4);
  await t.alerter.stop();
  await t.store.stop();
});
