// Store behaviour shared by both SQLite drivers: run by node's test runner against
// better-sqlite3 (test/integration/store.test.ts) and by Bun against bun:sqlite
// (test/helpers/run-store-cases.ts, spawned from the same test file).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriverOpener } from '../../src/store/driver.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { SqliteStore } from '../../src/store/store.js';
import { makeAlert, makeProcess } from './alerts.js';
import { FakeTime } from './fake-time.js';

export interface StoreCase {
  name: string;
  run(opener: DriverOpener): Promise<void>;
}

async function withStore(opener: DriverOpener, fn: (s: SqliteStore, path: string, clock: FakeTime) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'argos-store-'));
  const path = join(dir, 'nested', 'deeper', 'argos.db');
  const clock = new FakeTime(Date.UTC(2025, 0, 1));
  const store = new SqliteStore({ path, opener, clock });
  try {
    await store.start();
    await fn(store, path, clock);
  } finally {
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const STORE_CASES: readonly StoreCase[] = [
  {
    name: 'creates the file and its directory with mode 0600, in WAL mode, at the latest schema',
    run: (opener) =>
      withStore(opener, async (store, path) => {
        store.saveAlert(makeAlert(1, Date.now()), ['mqtt']);
        for (const f of [path, `${path}-wal`, `${path}-shm`]) {
          assert.ok(existsSync(f), `${f} exists`);
          assert.equal(statSync(f).mode & 0o777, 0o600, `${f} has mode 0600`);
        }
        await store.stop();
        // Reopening keeps the data and does not migrate again.
        const again = new SqliteStore({ path, opener });
        await again.start();
        try {
          assert.equal(again.getAlert('alert-000001')?.process.binary, '/usr/bin/tool1');
          assert.equal(again.outboxDepth(), 1);
        } finally {
          await again.stop();
        }
        const raw = await opener(path);
        try {
          assert.equal(String(raw.pragma('journal_mode')).toLowerCase(), 'wal');
          assert.equal(Number(raw.pragma('user_version')), MIGRATIONS.length);
        } finally {
          raw.close();
        }
      }),
  },
  {
    name: 'an alert and its outbox rows are written together or not at all',
    run: (opener) =>
      withStore(opener, (store) => {
        const a = makeAlert(1, Date.now());
        store.saveAlert(a, ['mqtt', 'ntfy']);
        assert.equal(store.outboxDepth('mqtt'), 1);
        assert.equal(store.outboxDepth('ntfy'), 1);
        assert.throws(() => store.saveAlert({ ...a, count: 9 }, ['mqtt', 'ntfy']));
        assert.equal(store.outboxDepth(), 2, 'the failed save queued nothing');
        assert.equal(store.getAlert(a.id)?.count, 1);
        assert.deepEqual(store.pendingOutbox('mqtt', 10)[0].payload, JSON.stringify(a));
      }),
  },
  {
    name: 'the outbox hands out messages in order; delivered and dead ones leave the queue',
    run: (opener) =>
      withStore(opener, (store) => {
        for (let i = 0; i < 5; i++) store.saveAlert(makeAlert(i, Date.now() + i), ['mqtt', 'ntfy']);
        const first = store.pendingOutbox('mqtt', 3);
        assert.deepEqual(
          first.map((m) => m.alertId),
          ['alert-000000', 'alert-000001', 'alert-000002'],
        );
        store.markDelivered([first[0].id, first[1].id]);
        store.markFailed(first[2].id, 'timeout', false);
        const next = store.pendingOutbox('mqtt', 10);
        assert.deepEqual(
          next.map((m) => [m.alertId, m.attempts]),
          [
            ['alert-000002', 1],
            ['alert-000003', 0],
            ['alert-000004', 0],
          ],
        );
        store.markFailed(next[0].id, 'rejected', true);
        assert.equal(store.outboxDepth('mqtt'), 2);
        assert.equal(store.outboxDepth('ntfy'), 5, 'other reporters are independent');
        store.markDelivered([first[0].id]);
        assert.equal(store.outboxDepth(), 7, 'delivering twice changes nothing');
      }),
  },
  {
    name: 'an update rewrites the alert and queues it only for the reporters named',
    run: (opener) =>
      withStore(opener, (store) => {
        const a = makeAlert(1, Date.now());
        store.saveAlert(a, ['mqtt']);
        store.markDelivered(store.pendingOutbox('mqtt', 10).map((m) => m.id));
        store.updateAlert({ ...a, count: 7, score: 0.99 }, []);
        assert.equal(store.outboxDepth(), 0);
        assert.equal(store.getAlert(a.id)?.count, 7);
        store.updateAlert({ ...a, count: 8, score: 0.99 }, ['mqtt']);
        const [m] = store.pendingOutbox('mqtt', 10);
        assert.equal(m.alertId, a.id);
        assert.equal((JSON.parse(m.payload) as { count: number }).count, 8);
        store.updateAlert({ ...makeAlert(2, Date.now()) }, ['mqtt']);
        assert.equal(store.outboxDepth(), 1, 'an unknown alert is not queued');
      }),
  },
  {
    name: 'alerts are listed newest first from a time on, up to a limit',
    run: (opener) =>
      withStore(opener, (store) => {
        const t0 = Date.UTC(2025, 0, 1);
        for (let i = 0; i < 6; i++) store.saveAlert(makeAlert(i, t0 + i * 60_000), []);
        assert.deepEqual(
          store.listAlerts(t0 + 2 * 60_000, 100).map((a) => a.id),
          ['alert-000005', 'alert-000004', 'alert-000003', 'alert-000002'],
        );
        assert.deepEqual(
          store.listAlerts(0, 2).map((a) => a.id),
          ['alert-000005', 'alert-000004'],
        );
      }),
  },
  {
    name: 'processes keep their first sighting and move their last',
    run: (opener) =>
      withStore(opener, (store) => {
        const p = makeProcess(1, { pod: { namespace: 'ns', name: 'pod', container: 'c' } });
        store.upsertProcesses([{ process: p, firstSeen: 100, lastSeen: 100 }]);
        store.upsertProcesses([{ process: p, firstSeen: 500, lastSeen: 500 }]);
        store.upsertProcesses([{ process: p, firstSeen: 300, lastSeen: 300 }]);
        store.upsertProcesses([{ process: makeProcess(2), firstSeen: 7, lastSeen: 8 }]);
        assert.deepEqual(store.getProcess('exec-1'), { process: p, firstSeen: 100, lastSeen: 500 });
        assert.deepEqual(store.getProcess('exec-2'), { process: makeProcess(2), firstSeen: 7, lastSeen: 8 });
        assert.equal(store.getProcess('exec-3'), undefined);
      }),
  },
  {
    name: 'retention by age keeps undelivered alerts; retention by size gets under the limit',
    run: (opener) =>
      withStore(opener, (store, _path, clock) => {
        const day = 86_400_000;
        const old = clock.now() - 10 * day;
        store.saveAlert(makeAlert(1, old), ['mqtt']);
        store.saveAlert(makeAlert(2, old), ['mqtt']);
        store.saveAlert(makeAlert(3, clock.now()), ['mqtt']);
        store.upsertProcesses([{ process: makeProcess(1), firstSeen: old, lastSeen: old }]);
        store.upsertProcesses([{ process: makeProcess(3), firstSeen: clock.now(), lastSeen: clock.now() }]);
        store.markDelivered(store.pendingOutbox('mqtt', 1).map((m) => m.id)); // alert 1 delivered
        clock.advance(1);
        const r = store.retention(5 * day, Number.MAX_SAFE_INTEGER);
        assert.equal(r.alerts, 1);
        assert.equal(r.processes, 1);
        assert.equal(store.getAlert('alert-000001'), undefined);
        assert.ok(store.getAlert('alert-000002'), 'pending alert kept');
        assert.ok(store.getAlert('alert-000003'));

        const big = 'x'.repeat(4000);
        for (let i = 10; i < 600; i++) store.saveAlert(makeAlert(i, clock.now() + i, { process: { pid: i, exec_id: `e${i}`, binary: '/bin/x', arguments: big } }), ['mqtt']);
        const before = store.usedBytes();
        assert.ok(before > 2_000_000, `filled to ${before} bytes`);
        const limit = 1_000_000;
        const s = store.retention(365 * day, limit);
        assert.ok(store.usedBytes() <= limit, `shrunk to ${store.usedBytes()} bytes`);
        assert.ok(s.alerts > 0);
        assert.equal(store.getAlert('alert-000010'), undefined, 'oldest went first');
        assert.ok(store.getAlert('alert-000599'), 'newest kept');
      }),
  },
  {
    name: 'baseline traces are appended, read back in order, counted and cleared',
    run: (opener) =>
      withStore(opener, (store) => {
        const traces = Array.from({ length: 600 }, (_, i) => ({ execId: `e${i}`, binary: `/bin/b${i % 3}`, startedAt: 1000 + i, syscalls: 'read write  openat close' }));
        store.appendBaseline(traces);
        const back = [...store.iterateBaseline()];
        assert.equal(back.length, 600);
        assert.equal(back[599].execId, 'e599');
        assert.equal(back[0].syscalls, 'read write  openat close');
        assert.deepEqual(store.baselineStats(), { traces: 600, syscalls: 2400, binaries: 3, first: 1000, last: 1599 });
        assert.equal(store.clearBaseline(), 600);
        assert.deepEqual(store.baselineStats(), { traces: 0, syscalls: 0, binaries: 0 });
      }),
  },
  {
    name: 'a database from a newer schema is refused with a readable message',
    run: async (opener) => {
      const dir = mkdtempSync(join(tmpdir(), 'argos-store-'));
      const path = join(dir, 'argos.db');
      try {
        const raw = await opener(path);
        raw.exec(`PRAGMA user_version = ${MIGRATIONS.length + 5}`);
        raw.close();
        const store = new SqliteStore({ path, opener });
        await assert.rejects(store.start(), /newer Argos/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'a damaged, non-SQLite or foreign file is refused, or set aside with a timestamp and replaced when asked',
    run: async (opener) => {
      const dir = mkdtempSync(join(tmpdir(), 'argos-store-'));
      const path = join(dir, 'argos.db');
      const clock = new FakeTime(Date.UTC(2025, 0, 2, 3, 4, 5));
      try {
        const healthy = new SqliteStore({ path, opener });
        await healthy.start();
        healthy.saveAlert(makeAlert(1, Date.now()), ['mqtt']);
        await healthy.stop();
        // Damage the pages after the header (and drop the write-ahead log some drivers keep).
        for (const f of [`${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
        const bytes = readFileSync(path);
        bytes.fill(0xa5, 200, bytes.length);
        writeFileSync(path, bytes);
        const cases: [string, () => Promise<void>][] = [
          ['damaged', async () => writeFileSync(path, bytes)],
          ['not SQLite', async () => writeFileSync(path, Buffer.alloc(8192, 0x41))],
          [
            'foreign',
            async () => {
              const other = await opener(path);
              other.exec('CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)');
              other.close();
            },
          ],
        ];
        for (const [what, make] of cases) {
          rmSync(path, { force: true });
          await make();
          const before = readFileSync(path);
          await assert.rejects(new SqliteStore({ path, opener }).start(), /unusable/, `${what}: refused by default`);
          assert.deepEqual(readFileSync(path), before, `${what}: left alone when not asked to set it aside`);
          const store = new SqliteStore({ path, opener, clock, setAsideUnusable: true });
          await store.start();
          store.saveAlert(makeAlert(2, Date.now()), []);
          assert.equal(store.listAlerts(0, 10).length, 1, `${what}: a fresh database`);
          await store.stop();
          const aside = readdirSync(dir).filter((f) => f.startsWith('argos.db.unusable-2025-01-02T03-04-05-000Z') && !/-(wal|shm)$/.test(f));
          assert.equal(aside.length, 1, `${what}: ${readdirSync(dir).join(' ')}`);
          assert.deepEqual(readFileSync(join(dir, aside[0])), before, `${what}: kept as it was`);
          for (const f of readdirSync(dir)) if (f.includes('unusable')) rmSync(join(dir, f));
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];
