// The system clock set forwards or backwards while the daemon runs (NTP's first sync on a
// device without a battery-backed clock, an operator's mistake): everything that measures a
// duration — throttling, retention, delivery backoff, the replay pace, uptime — reads the
// monotonic clock, so FakeTime.jump() (the wall clock moves, the monotonic one does not)
// changes nothing of it. Wall time still stamps what is stored and sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Alerter } from '../../src/alerter/alerter.js';
import { Counters } from '../../src/core/counters.js';
import { silentLogger } from '../../src/core/logger.js';
import { SqliteStore } from '../../src/store/store.js';
import { RetentionTask } from '../../src/store/retention.js';
import { OutboxLoop } from '../../src/reporters/outbox.js';
import type { Reporter, SendResult } from '../../src/reporters/reporter.js';
import { Pacer } from '../../src/sources/stream.js';
import { makeAlert, makeProcess } from '../helpers/alerts.js';
import { FakeTime, waitFor } from '../helpers/fake-time.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function alerterWith(time: FakeTime) {
  const store = new SqliteStore({ path: ':memory:', clock: time });
  await store.start();
  const counters = new Counters();
  const alerter = new Alerter({ store, reporters: ['mqtt'], node: 'n', model: { name: 'm', threshold: 0.5 }, throttleWindowMs: 60_000, throttleMax: 100, counters, log: silentLogger(), clock: time, timers: time });
  await alerter.start();
  const anomaly = (): void => alerter.verdict({ window: { process: makeProcess(1), tokens: new Int32Array(8), seq: 0, final: false, at: time.now() }, score: 0.9 });
  return { store, counters, alerter, anomaly };
}

void test('throttling: a clock set back an hour does not fold the next hour of anomalies into one alert', async () => {
  const time = new FakeTime(Date.UTC(2025, 0, 1, 12));
  const t = await alerterWith(time);
  t.anomaly();
  time.jump(-HOUR);
  time.advance(61_000); // the fold window has passed, in real (monotonic) time
  t.anomaly();
  assert.equal(t.counters.alerts, 2, 'a second alert once the window passed');
  assert.equal(t.counters.throttled, 0);
  await t.alerter.stop();
  await t.store.stop();
});

void test('throttling: a clock set forwards a day does not close the fold window early', async () => {
  const time = new FakeTime(Date.UTC(2025, 0, 1, 12));
  const t = await alerterWith(time);
  t.anomaly();
  time.jump(DAY);
  time.advance(1000); // one sweep: the window is 60 s of real time, 1 s has passed
  t.anomaly();
  t.anomaly();
  assert.equal(t.counters.alerts, 1);
  assert.equal(t.counters.throttled, 2);
  assert.equal(t.alerter.openAlerts, 1, 'still open');
  const stored = t.store.listAlerts(0, 10);
  assert.equal(stored.length, 1);
  assert.equal(stored[0].time, '2025-01-01T12:00:00.000Z', 'stamped with the wall time it was raised at');
  await t.alerter.stop();
  await t.store.stop();
});

void test('retention: a clock set forwards a year deletes nothing recent; set backwards, ages keep counting in real time', async () => {
  const time = new FakeTime(Date.UTC(2025, 0, 1));
  const store = new SqliteStore({ path: ':memory:', clock: time });
  await store.start();
  const task = new RetentionTask({ store, maxAgeMs: 30 * DAY, maxBytes: Number.MAX_SAFE_INTEGER, log: silentLogger(), timers: time, clock: time, intervalMs: HOUR });
  await task.start();
  store.saveAlert(makeAlert(1, time.now()), []); // settled at once: no reporter
  time.jump(365 * DAY);
  time.advance(HOUR); // a retention round
  assert.equal(store.listAlerts(0, 10).length, 1, 'an alert an hour old is kept');
  // Later, an old alert from before the start (stamped by the wall clock of then) goes by age.
  store.saveAlert(makeAlert(2, Date.UTC(2024, 0, 1)), []);
  time.advance(HOUR);
  assert.deepEqual(
    store.listAlerts(0, 10).map((a) => a.id),
    ['alert-000001'],
  );
  await task.stop();
  await store.stop();

  // Backwards: the clock set back a year; 31 days of real time later the alert is 31 days old.
  const back = new FakeTime(Date.UTC(2025, 6, 1));
  const s2 = new SqliteStore({ path: ':memory:', clock: back });
  await s2.start();
  const t2 = new RetentionTask({ store: s2, maxAgeMs: 30 * DAY, maxBytes: Number.MAX_SAFE_INTEGER, log: silentLogger(), timers: back, clock: back, intervalMs: DAY });
  await t2.start();
  s2.saveAlert(makeAlert(3, back.now()), []);
  back.jump(-365 * DAY);
  back.advance(31 * DAY);
  assert.equal(s2.listAlerts(0, 10).length, 1, 'kept: deletion waits for the wall clock (never early)');
  await t2.stop();
  await s2.stop();
});

class FailingReporter implements Reporter {
  readonly name = 'r';
  attempts = 0;
  async send(): Promise<SendResult> {
    this.attempts++;
    return { kind: 'retry', reason: 'down' };
  }
}

void test('delivery backoff: retries come after the same real delays whichever way the clock is set', async () => {
  const time = new FakeTime();
  const store = new SqliteStore({ path: ':memory:', clock: time });
  await store.start();
  const reporter = new FailingReporter();
  const loop = new OutboxLoop({ store, reporter, log: silentLogger(), timers: time, backoff: { initialMs: 1000, maxMs: 8000, jitter: 0 } });
  store.saveAlert(makeAlert(1, time.now()), ['r']);
  await loop.start();
  await waitFor(() => reporter.attempts === 1 && time.waiting.includes(1000), 'first failure, then a wait of 1 s');
  time.jump(DAY);
  time.advance(999);
  assert.equal(reporter.attempts, 1, 'a day forwards does not end the wait');
  time.advance(1);
  await waitFor(() => reporter.attempts === 2 && time.waiting.includes(2000), 'second attempt after 1 s, then 2 s');
  time.jump(-DAY);
  time.advance(2000);
  await waitFor(() => reporter.attempts === 3, 'a day backwards does not extend the wait');
  await loop.stop();
  await store.stop();
});

void test('replay pace: a clock jump does not stall or rush a recorded-speed replay', async () => {
  const time = new FakeTime();
  const pacer = new Pacer(1, time, time, new AbortController().signal);
  const line = (t: string): string => `{"process_exit":{},"time":"${t}"}`;
  assert.equal(await pacer.wait(line('2025-01-01T00:00:00Z')), true);
  time.jump(-HOUR);
  let done = false;
  void pacer.wait(line('2025-01-01T00:00:02Z')).then(() => (done = true));
  await waitFor(() => time.waiting.length === 1, 'a wait');
  assert.deepEqual(time.waiting, [2000], 'two recorded seconds, measured on the monotonic clock');
  time.advance(2000);
  await waitFor(() => done, 'the line is due');
});
