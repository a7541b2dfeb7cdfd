import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelProbe, progressProbe } from '../../src/health/daemon-probes.js';

test('the source probe fails once its counter has not moved for the limit, and a finished source is fine', async () => {
  let now = 0;
  let events = 0;
  let done = false;
  const p = progressProbe({ name: 'source', critical: true, value: () => events, maxIdleMs: 1000, clock: { now: () => now, monotonic: () => now }, what: 'events', finished: () => done });
  now = 900;
  assert.equal((await p.check()).ok, true);
  assert.equal(p.stalled(), false);
  now = 1500;
  assert.equal((await p.check()).ok, false);
  assert.equal(p.stalled(), true);
  events = 5; // moves again: fresh from now on
  assert.equal((await p.check()).ok, true);
  now = 3000;
  assert.equal(p.stalled(), true);
  done = true;
  assert.deepEqual(await p.check(), { ok: true, detail: 'finished after 5 events' });
  assert.equal(p.stalled(), false);
});

test('the model probe fails while every classifier worker thread is dead, and says how often they were restarted', async () => {
  let health = { restarts: 2, dead: 0, engines: 1 };
  const p = modelProbe({ name: 'model', failedBatches: () => 0, batches: () => 10, workers: () => health });
  assert.deepEqual(await p.check(), { ok: true, detail: '10 batches scored, 2 worker restarts' });
  health = { restarts: 2, dead: 1, engines: 1 };
  assert.deepEqual(await p.check(), { ok: false, detail: 'every classifier worker thread is dead (2 restarts so far); see the log' });
});
