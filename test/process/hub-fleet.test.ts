// Two `argos hub` processes on one MQTT 5 shared subscription and one PostgreSQL (both real,
// started here) while three nodes publish: real alerts from `argos replay --demo` under
// three node names, and a longer stream of alerts published as nodes would. Every alert is
// stored exactly once; one hub killed (SIGKILL) mid-stream and started again with the same
// name resumes its session: still every alert, once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pg from 'pg';
import { runCli, startCli, type CliRun } from '../helpers/cli.js';
import { Mosquitto, freePort } from '../helpers/mosquitto.js';
import { Postgres } from '../helpers/postgres.js';
import { Subscriber } from '../helpers/mqtt-subscriber.js';
import { waitFor } from '../helpers/fake-time.js';
import { makeAlert } from '../helpers/alerts.js';

const TOKEN = 'fleet-test-token-0123456789';
const NODES = ['node-1', 'node-2', 'node-3'];
let broker: Mosquitto;
let db: Postgres;
let sql: pg.Client;
const dir = mkdtempSync(join(tmpdir(), 'argos-hub-fleet-'));
const hubs: CliRun[] = [];

async function startHub(instance: string): Promise<{ run: CliRun; port: number }> {
  const port = await freePort();
  const run = startCli(['hub'], {
    env: {
      ARGOS_MQTT_URL: broker.url,
      ARGOS_HUB_TOKEN: TOKEN,
      ARGOS_HUB_DATABASE_URL: db.url,
      ARGOS_HUB_HTTP: `127.0.0.1:${port}`,
      ARGOS_HUB_INSTANCE: instance,
      ARGOS_HUB_CONNECTIONS: '2',
      ARGOS_LOG_LEVEL: 'info',
    },
    limitMs: 240_000,
  });
  hubs.push(run);
  await waitFor(() => run.out().stderr.includes('"hub running"') || run.child.exitCode !== null, `hub ${instance} running`, 60_000);
  assert.equal(run.child.exitCode, null, run.out().stderr);
  return { run, port };
}

async function storedAlerts(): Promise<Map<string, number>> {
  const r = await sql.query<{ id: string; count: number }>('SELECT id, count FROM hub_alerts');
  return new Map(r.rows.map((x) => [x.id, x.count]));
}

async function insertedBy(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const m = /argos_hub_alert_writes_total\{result="inserted"\} (\d+)/.exec(await res.text());
  return m ? Number(m[1]) : 0;
}

before(async () => {
  broker = await Mosquitto.start();
  db = await Postgres.start();
  sql = new pg.Client({ connectionString: db.url });
});

after(async () => {
  for (const h of hubs) if (h.child.exitCode === null && h.child.signalCode === null) h.child.kill('SIGTERM');
  await Promise.all(hubs.map((h) => h.done));
  await sql.end().catch(() => undefined);
  await db?.dispose();
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

void test('two hubs, three nodes, one hub killed mid-stream and restarted: every alert stored exactly once', async () => {
  const a = await startHub('a');
  const b = await startHub('b');
  await sql.connect();
  const seen = await Subscriber.connect(broker.url, 'argos/+/alert');
  try {
    // Real alerts: the demo recording replayed by three daemons at once.
    const replays = await Promise.all(
      NODES.map((node) => runCli(['replay', '--demo', '--json', '--db', join(dir, `${node}.db`)], { env: { ARGOS_MQTT_URL: broker.url, MACHINE_NAME: node, ARGOS_HTTP_ADDRESS: '' } })),
    );
    for (const r of replays) assert.equal(r.code, 0, r.stderr);
    const realIds = new Set(seen.messages.map((m) => (JSON.parse(m.payload) as { id: string }).id));
    assert.ok(realIds.size >= 3 * 10, `${realIds.size} real alerts published`);

    // A longer stream, as the three nodes would publish it; hub b is killed a third of the way in.
    const publisher = await mqtt.connectAsync(broker.url, { clientId: 'fleet-nodes' });
    const total = 3000;
    const t0 = Date.now() - total;
    let killed = false;
    const streamIds: string[] = [];
    for (let i = 0; i < total; i++) {
      const node = NODES[i % 3];
      const alert = makeAlert(100_000 + i, t0 + i, { node });
      streamIds.push(alert.id);
      await publisher.publishAsync(`argos/${node}/alert`, JSON.stringify(alert), { qos: 1 });
      if (!killed && i === total / 3) {
        const [fromA, fromB] = [await insertedBy(a.port), await insertedBy(b.port)];
        assert.ok(fromA > 0 && fromB > 0, `both hubs stored alerts before the kill (a ${fromA}, b ${fromB})`);
        b.run.child.kill('SIGKILL');
        killed = true;
      }
    }
    await publisher.endAsync();
    const restarted = await startHub('b');
    const want = new Set([...realIds, ...streamIds]);
    let stored = new Map<string, number>();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      stored = await storedAlerts();
      if (stored.size >= want.size) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const missing = [...want].filter((id) => !stored.has(id));
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} of ${want.size} alerts missing`);
    assert.equal(stored.size, want.size, 'nothing but the published alerts');
    // Final counts: the largest count published for each id.
    const published = new Map<string, number>();
    for (const m of seen.messages) {
      const x = JSON.parse(m.payload) as { id: string; count: number };
      published.set(x.id, Math.max(published.get(x.id) ?? 0, x.count));
    }
    for (const [id, count] of published) assert.equal(stored.get(id), count, `alert ${id} has its final count`);
    assert.ok((await insertedBy(restarted.port)) + (await insertedBy(a.port)) > 0);
  } finally {
    await seen.close();
  }
});
