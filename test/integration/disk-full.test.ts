// Disk full: the database on a small file system (a 4 MiB tmpfs mounted for the test, as
// root) that fills up. The alerter keeps raising alerts; what the database refuses waits in
// the bounded buffer (BufferedAlertStore) and is written, in order, once space returns; the
// database stays intact (PRAGMA integrity_check) and every alert has its outbox rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { pino } from 'pino';
import Database from 'better-sqlite3';
import { Alerter } from '../../src/alerter/alerter.js';
import { Counters } from '../../src/core/counters.js';
import { loggerOptions } from '../../src/core/logger.js';
import { BufferedAlertStore } from '../../src/store/buffered-alerts.js';
import { SqliteStore } from '../../src/store/store.js';
import { alertStorageProbe } from '../../src/health/daemon-probes.js';
import { makeProcess } from '../helpers/alerts.js';
import { FakeTime } from '../helpers/fake-time.js';
import { fill, smallFileSystem } from '../helpers/small-fs.js';

void test('disk full: alerts wait in a bounded buffer, the daemon says so, and everything is stored once space returns', async (t) => {
  const dir = smallFileSystem(t, '4m');
  if (dir === undefined) {
    t.skip('needs root to mount a small file system');
    return;
  }
  const time = new FakeTime(Date.UTC(2025, 0, 1));
  let logged = '';
  const log = pino(loggerOptions('info'), new Writable({ write: (c: Buffer, _e, cb) => ((logged += c.toString()), cb()) }));
  const path = join(dir, 'argos.db');
  const store = new SqliteStore({ path, clock: time });
  await store.start();
  let woken = 0;
  const buffer = new BufferedAlertStore({ inner: store, log, timers: time, maxAlerts: 40, retryMs: 1000, maxRetryMs: 4000, onStored: () => woken++ });
  await buffer.start();
  const counters = new Counters();
  const alerter = new Alerter({ store: buffer, reporters: ['mqtt', 'ntfy'], node: 'n', model: { name: 'm', threshold: 0.5 }, throttleWindowMs: 60_000, throttleMax: 100, counters, log, clock: time, timers: time });
  await alerter.start();
  const probe = alertStorageProbe({ status: () => buffer.status() });
  let n = 0;
  const raise = (count: number): void => {
    for (let i = 0; i < count; i++) {
      const p = makeProcess(n++, { arguments: 'x'.repeat(2000) });
      alerter.verdict({ window: { process: p, tokens: new Int32Array(8), seq: 0, final: false, at: time.now() }, score: 0.9 });
    }
  };
  raise(5);
  assert.deepEqual(buffer.status(), { buffered: 0, bufferedProcesses: 0, dropped: 0, failing: undefined });

  const filler = fill(dir);
  raise(30);
  const full = buffer.status();
  assert.ok(full.buffered > 0, `alerts wait in memory: ${JSON.stringify(full)}`);
  assert.match(full.failing ?? '', /full|SQLITE_FULL|disk/i);
  assert.equal((await probe.check()).ok, false);
  assert.match((await probe.check()).detail, /refuses writes .* alert writes .* waiting in memory/);
  assert.match(logged, /cannot store alerts \(disk full or database not writable\)/);
  // The daemon keeps working: the outbox can still be read, retries fail quietly.
  assert.ok(store.pendingOutbox('mqtt', 1000).length >= 5);
  time.advance(10_000);
  assert.ok(buffer.status().buffered > 0, 'still full: still waiting');

  // Over the bound: the oldest waiting alerts are given up, counted and logged.
  raise(40);
  assert.equal(buffer.status().buffered, 40);
  assert.ok(buffer.status().dropped > 0);
  assert.match(logged, /the oldest waiting alert is lost/);
  const lost = buffer.status().dropped;

  // Space returns: the next retry writes everything, in order, and wakes the reporters.
  rmSync(filler);
  time.advance(4000);
  assert.deepEqual(buffer.status(), { buffered: 0, bufferedProcesses: 0, dropped: lost, failing: undefined });
  assert.ok(woken > 0);
  assert.match(logged, /takes writes again/);
  assert.equal((await probe.check()).ok, true);
  const stored = store.listAlerts(0, 1000).length;
  assert.equal(stored, n - lost, 'every alert raised is stored but those given up');
  assert.equal(store.outboxDepth('mqtt'), stored);
  assert.equal(store.outboxDepth('ntfy'), stored);
  // Stored in the order raised (ids are time-ordered and raised in sequence).
  const pids = store
    .listAlerts(0, 1000)
    .map((a) => a.process.pid)
    .reverse();
  assert.deepEqual(pids, [...pids].sort((a, b) => a - b));

  await alerter.stop();
  await buffer.stop();
  await store.stop();
  const db = new Database(path, { readonly: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  } finally {
    db.close();
  }
});
