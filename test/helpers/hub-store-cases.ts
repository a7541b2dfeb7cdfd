// Hub store behaviour shared by both engines: run against SQLite and a real PostgreSQL
// server by test/integration/hub-store.test.ts. Each case gets a fresh, empty database.
import assert from 'node:assert/strict';
import type { HubDatabase } from '../../src/hub/store/database.js';
import { HubStore } from '../../src/hub/store/store.js';
import { HUB_MIGRATIONS } from '../../src/hub/store/migrations.js';
import type { IngestRecord } from '../../src/hub/store/records.js';
import type { NewProgramAlert, Alert } from '../../src/core/alert.js';
import type { StatePayload, StatsPayload } from '../../src/core/mqtt.js';
import { makeAlert } from './alerts.js';

export interface HubStoreCase {
  name: string;
  run(open: () => Promise<HubDatabase>): Promise<void>;
}

const T0 = Date.UTC(2025, 0, 1, 12);
const HOUR = 3_600_000;

export function alertRecord(a: Alert, received = T0): IngestRecord {
  return { kind: 'alert', node: a.node, received, alert: a };
}

export function newProgram(i: number, time: number, node = 'node-a'): NewProgramAlert {
  return {
    id: `np-${i}`,
    node,
    time: new Date(time).toISOString(),
    kind: 'new_program',
    process: { pid: 10 + i, exec_id: `x${i}`, binary: `/tmp/new${i}`, arguments: '' },
    program: `/tmp/new${i}`,
    model: 'm',
    priority: 5,
    count: 1,
    writable: true,
    reason: 'runs from /tmp',
  };
}

export function state(node: string, time: number, s: StatePayload['state'], version = 1): StatePayload {
  return { node, time: new Date(time).toISOString(), state: s, model: { name: 'device', version }, programs: 3 };
}

export function stats(node: string, time: number, events: number): StatsPayload {
  return { node, time: new Date(time).toISOString(), uptime: 10, outbox: 0, counters: { events } };
}

async function withStore(open: () => Promise<HubDatabase>, fn: (s: HubStore) => Promise<void>): Promise<void> {
  const store = new HubStore({ open });
  await store.start();
  try {
    await fn(store);
  } finally {
    await store.stop();
  }
}

export const HUB_STORE_CASES: readonly HubStoreCase[] = [
  {
    name: 'migrates once: a second start keeps the rows and the schema version',
    run: async (open) => {
      await withStore(open, async (s) => {
        await s.write([alertRecord(makeAlert(1, T0))]);
      });
      await withStore(open, async (s) => {
        assert.equal((await s.alerts({ limit: 10 })).length, 1);
        const [row] = await s.db.all('SELECT version FROM hub_schema');
        assert.equal(Number(row.version), HUB_MIGRATIONS.length);
      });
    },
  },
  {
    name: 'an alert id is stored once; a larger count rewrites it; a smaller or equal count, or another node, changes nothing',
    run: (open) =>
      withStore(open, async (s) => {
        const a = makeAlert(1, T0);
        assert.deepEqual(await s.write([alertRecord(a)]), { inserted: 1, updated: 0, duplicates: 0 });
        assert.deepEqual(await s.write([alertRecord(a, T0 + 1)]), { inserted: 0, updated: 0, duplicates: 1 });
        assert.deepEqual(await s.write([alertRecord({ ...a, count: 7 }, T0 + 2)]), { inserted: 0, updated: 1, duplicates: 0 });
        assert.deepEqual(await s.write([alertRecord({ ...a, count: 3 }, T0 + 3)]), { inserted: 0, updated: 0, duplicates: 1 });
        assert.deepEqual(await s.write([alertRecord({ ...a, node: 'node-b', count: 99 }, T0 + 4)]), { inserted: 0, updated: 0, duplicates: 1 });
        const all = await s.alerts({ limit: 10 });
        assert.equal(all.length, 1);
        assert.equal(all[0].count, 7);
        assert.equal(all[0].node, 'node-a');
        assert.deepEqual(await s.alert(a.id), { ...a, count: 7 });
      }),
  },
  {
    name: 'the same id twice in one batch: the larger count is stored',
    run: (open) =>
      withStore(open, async (s) => {
        const a = makeAlert(1, T0);
        const r = await s.write([alertRecord({ ...a, count: 4 }), alertRecord(a), alertRecord(makeAlert(2, T0))]);
        assert.deepEqual(r, { inserted: 2, updated: 0, duplicates: 1 });
        assert.equal((await s.alert(a.id))?.count, 4);
      }),
  },
  {
    name: 'alerts are listed newest first and filtered by node, program, kind, since, before and limit',
    run: (open) =>
      withStore(open, async (s) => {
        const records: IngestRecord[] = [];
        for (let i = 0; i < 6; i++) records.push(alertRecord({ ...makeAlert(i, T0 + i * HOUR), node: i % 2 ? 'node-b' : 'node-a' }));
        records.push(alertRecord(newProgram(1, T0 + 10 * HOUR)));
        await s.write(records);
        const ids = (as: Alert[]) => as.map((a) => a.id);
        assert.deepEqual(ids(await s.alerts({ limit: 3 })), ['np-1', 'alert-000005', 'alert-000004']);
        assert.deepEqual(ids(await s.alerts({ node: 'node-b', limit: 10 })), ['alert-000005', 'alert-000003', 'alert-000001']);
        assert.deepEqual(ids(await s.alerts({ program: '/usr/bin/tool2', limit: 10 })), ['alert-000002']);
        assert.deepEqual(ids(await s.alerts({ kind: 'new_program', limit: 10 })), ['np-1']);
        assert.deepEqual(ids(await s.alerts({ kind: 'anomaly', since: T0 + 4 * HOUR, limit: 10 })), ['alert-000005', 'alert-000004']);
        assert.deepEqual(ids(await s.alerts({ before: T0 + 2 * HOUR, limit: 10 })), ['alert-000001', 'alert-000000']);
        assert.equal((await s.alert('np-1'))?.kind, 'new_program');
        assert.equal(await s.alert('nope'), undefined);
      }),
  },
  {
    name: 'nodes: status and since it, the newest state and stats by their own time, alerts of the last 24 hours',
    run: (open) =>
      withStore(open, async (s) => {
        await s.write([{ kind: 'status', node: 'node-a', received: T0, status: 'online' }]);
        await s.write([{ kind: 'status', node: 'node-a', received: T0 + 1000, status: 'online' }]);
        let [n] = await s.nodes(T0 + 2000);
        assert.equal(n.status, 'online');
        assert.equal(n.since, new Date(T0).toISOString(), 'a repeated status keeps its since');
        await s.write([{ kind: 'status', node: 'node-a', received: T0 + 5000, status: 'offline' }]);
        // A retained copy read at start fills in only an unknown status.
        await s.write([
          { kind: 'status', node: 'node-a', received: T0 + 6000, status: 'online', retained: true },
          { kind: 'status', node: 'node-c', received: T0 + 6000, status: 'online', retained: true },
        ]);
        await s.write([
          { kind: 'state', node: 'node-a', received: T0, state: state('node-a', T0 + 100, 'detecting', 2) },
          { kind: 'state', node: 'node-a', received: T0, state: state('node-a', T0 + 50, 'learning', 0) },
          { kind: 'stats', node: 'node-a', received: T0, stats: stats('node-a', T0 + 100, 5) },
        ]);
        await s.write([{ kind: 'stats', node: 'node-a', received: T0, stats: stats('node-a', T0 + 10, 1) }]);
        await s.write([alertRecord(makeAlert(1, T0 - 25 * HOUR)), alertRecord(makeAlert(2, T0 - HOUR)), alertRecord(makeAlert(3, T0))]);
        const nodes = await s.nodes(T0 + 2000);
        assert.deepEqual(
          nodes.map((x) => x.node),
          ['node-a', 'node-c'],
        );
        [n] = nodes;
        assert.equal(n.status, 'offline');
        assert.equal(n.since, new Date(T0 + 5000).toISOString());
        assert.equal(n.state, 'detecting', 'an older state does not overwrite a newer one');
        assert.deepEqual(n.model, { name: 'device', version: 2 });
        assert.equal(n.stats?.counters.events, 5, 'older stats do not overwrite newer ones');
        assert.equal(n.alerts24h, 2);
        assert.equal(n.firstSeen, new Date(T0).toISOString());
        assert.equal(n.lastSeen, new Date(T0 + 6000).toISOString());
        assert.equal(nodes[1].status, 'online');
        assert.equal(nodes[1].state, null);
        assert.equal(await s.nodeExists('node-c'), true);
        assert.equal(await s.nodeExists('node-z'), false);
      }),
  },
  {
    name: 'commands: stored when sent, completed by their result; a result of an unknown command is kept; an unsent one can be removed',
    run: (open) =>
      withStore(open, async (s) => {
        await s.write([{ kind: 'status', node: 'node-a', received: T0, status: 'online' }]);
        await s.saveCommand('node-a', { id: 'c1', command: 'allow', alert: 'alert-1' }, T0);
        await s.saveCommand('node-a', { id: 'c2', command: 'relearn' }, T0 + 1);
        await s.saveCommand('node-a', { id: 'c3', command: 'status' }, T0 + 2);
        await s.deleteCommand('c3');
        const result = { id: 'c1', node: 'node-a', time: new Date(T0 + 5).toISOString(), command: 'allow' as const, ok: true, message: 'allowed' };
        await s.write([{ kind: 'result', node: 'node-a', received: T0 + 5, result }]);
        // A result claiming a command of another node does not touch it.
        await s.write([{ kind: 'result', node: 'node-b', received: T0 + 6, result: { ...result, node: 'node-b', ok: false } }]);
        await s.write([{ kind: 'result', node: 'node-a', received: T0 + 7, result: { ...result, id: 'other-tool', command: 'status' } }]);
        const cmds = await s.commands('node-a', 10);
        assert.deepEqual(
          cmds.map((c) => [c.command?.id ?? null, c.result?.ok ?? null]),
          [
            [null, true],
            ['c2', null],
            ['c1', true],
          ],
        );
        assert.equal(cmds[2].result?.message, 'allowed');
        assert.equal(cmds[2].resultTime, T0 + 5);
        assert.deepEqual(await s.commands('node-b', 10), []);
      }),
  },
  {
    name: 'timeline: alerts per kind in buckets, for the fleet or one node',
    run: (open) =>
      withStore(open, async (s) => {
        await s.write([
          alertRecord(makeAlert(1, T0 + 10)),
          alertRecord(makeAlert(2, T0 + 20)),
          alertRecord(newProgram(1, T0 + 30)),
          alertRecord({ ...makeAlert(3, T0 + 2 * HOUR + 5), node: 'node-b' }),
          alertRecord(makeAlert(4, T0 - 5 * HOUR)),
        ]);
        assert.deepEqual(await s.timeline(T0 - HOUR, HOUR), [
          { t: T0, anomaly: 2, new_program: 1 },
          { t: T0 + 2 * HOUR, anomaly: 1, new_program: 0 },
        ]);
        assert.deepEqual(await s.timeline(T0 - HOUR, HOUR, 'node-b'), [{ t: T0 + 2 * HOUR, anomaly: 1, new_program: 0 }]);
      }),
  },
  {
    name: 'retention removes alerts and commands received before the cut, and nothing else',
    run: (open) =>
      withStore(open, async (s) => {
        await s.write([alertRecord(makeAlert(1, T0), T0 - 10 * HOUR), alertRecord(makeAlert(2, T0), T0)]);
        await s.saveCommand('node-a', { id: 'old', command: 'status' }, T0 - 10 * HOUR);
        await s.saveCommand('node-a', { id: 'new', command: 'status' }, T0);
        assert.deepEqual(await s.retention(T0 - HOUR), { alerts: 1, commands: 1 });
        assert.deepEqual(
          (await s.alerts({ limit: 10 })).map((a) => a.id),
          ['alert-000002'],
        );
        assert.deepEqual(
          (await s.commands('node-a', 10)).map((c) => c.command?.id),
          ['new'],
        );
      }),
  },
  {
    name: 'hostile strings (HTML, quotes, control and bidirectional characters, 8 KiB) come back byte for byte',
    run: (open) =>
      withStore(open, async (s) => {
        const nasty = `<script>alert("x")</script>'; DROP TABLE hub_alerts; --\u0000\u001b[31m\u202e${'é'.repeat(4000)}`;
        const a = makeAlert(1, T0, { program: nasty, process: { pid: 1, exec_id: '"\'', binary: nasty, arguments: nasty } });
        await s.write([alertRecord(a)]);
        assert.deepEqual(await s.alert(a.id), a);
        assert.deepEqual(
          (await s.alerts({ program: nasty, limit: 1 })).map((x) => x.id),
          [a.id],
        );
      }),
  },
];
