// The hub in this process against a real mosquitto: a node's messages published with mqtt.js
// as a daemon would, stored in SQLite, read back through the REST API with its tokens;
// commands reach the node's cmd topic and their results come back; bad input is refused
// and counted; retained status and state of nodes that spoke before the hub started are read.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/logger.js';
import { buildHub, type Hub } from '../../src/hub/index.js';
import type { Alert } from '../../src/core/alert.js';
import type { HubNode } from '../../src/hub/store/records.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Subscriber } from '../helpers/mqtt-subscriber.js';
import { waitFor } from '../helpers/fake-time.js';
import { makeAlert } from '../helpers/alerts.js';
import { newProgram, state, stats } from '../helpers/hub-store-cases.js';

const TOKEN = 'operator-token-0123456789';
const READ = 'reader-token-0123456789ab';
const dir = mkdtempSync(join(tmpdir(), 'argos-hub-'));
let broker: Mosquitto;
let hub: Hub;
let node: MqttClient;
let base: string;

/** GET with a token ('' = none). */
async function get(path: string, token = TOKEN): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: res.status, body, headers: res.headers };
}

async function post(path: string, payload: unknown, token = TOKEN): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: typeof payload === 'string' ? payload : JSON.stringify(payload) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const nodes = async () => (await get('/api/nodes')).body.nodes as HubNode[];
const alerts = async (q = '') => (await get(`/api/alerts${q}`)).body.alerts as Alert[];

before(async () => {
  broker = await Mosquitto.start();
  // A node that spoke before the hub started: only its retained messages are left.
  const early = await mqtt.connectAsync(broker.url, { clientId: 'early-node' });
  await early.publishAsync('argos/early/status', 'online', { qos: 1, retain: true });
  await early.publishAsync('argos/early/state', JSON.stringify(state('early', Date.now(), 'learning', 0)), { qos: 1, retain: true });
  await early.endAsync();
  const config = loadConfig({
    env: { ARGOS_MQTT_URL: broker.url, ARGOS_HUB_TOKEN: TOKEN, ARGOS_HUB_READ_TOKEN: READ, ARGOS_HUB_HTTP: '127.0.0.1:0', ARGOS_HUB_DATABASE_URL: join(dir, 'hub.db'), ARGOS_HUB_INSTANCE: 'test', ARGOS_HUB_CONNECTIONS: '2' },
  });
  hub = buildHub({ config, log: silentLogger(), processMetrics: false });
  await hub.start();
  base = `http://127.0.0.1:${hub.http.address()?.port}`;
  node = await mqtt.connectAsync(broker.url, { clientId: 'edge-1-node' });
  await waitFor(() => hub.ingest.connectedCount === 2, 'both hub connections');
});

after(async () => {
  await node?.endAsync();
  await hub?.stop();
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

void test('a node\'s alerts, status, state and stats are stored and served; a node known only by its retained messages appears too', async () => {
  const t = Date.now();
  const a1 = makeAlert(1, t - 60_000, { node: 'edge-1' });
  const a2 = newProgram(2, t - 30_000, 'edge-1');
  await node.publishAsync('argos/edge-1/status', 'online', { qos: 1, retain: true });
  await node.publishAsync('argos/edge-1/alert', JSON.stringify(a1), { qos: 1 });
  await node.publishAsync('argos/edge-1/alert', JSON.stringify(a2), { qos: 1 });
  // A re-sent alert with its final count after throttling.
  await node.publishAsync('argos/edge-1/alert', JSON.stringify({ ...a1, count: 12 }), { qos: 1 });
  await node.publishAsync('argos/edge-1/alert', JSON.stringify(a1), { qos: 1 });
  await node.publishAsync('argos/edge-1/state', JSON.stringify(state('edge-1', t, 'detecting', 3)), { qos: 1, retain: true });
  await node.publishAsync('argos/edge-1/stats', JSON.stringify(stats('edge-1', t, 42)), { qos: 0 });
  await waitFor(() => hub.ingest.counters.stored.alert === 4 && hub.ingest.counters.stored.stats === 1 && hub.ingest.counters.stored.state >= 2, 'the messages stored');

  const all = await alerts();
  assert.deepEqual(
    all.map((a) => [a.id, a.count]),
    [
      [a2.id, 1],
      [a1.id, 12],
    ],
  );
  assert.deepEqual(await alerts('?kind=new_program'), [a2]);
  assert.deepEqual((await alerts('?node=edge-1&program=/usr/bin/tool1&since=1h')).map((a) => a.id), [a1.id]);
  assert.deepEqual(await alerts('?since=10s'), []);
  assert.deepEqual((await get(`/api/alerts/${a2.id}`)).body, a2);
  assert.equal((await get('/api/alerts/nope')).status, 404);

  const byName = new Map((await nodes()).map((n) => [n.node, n]));
  const e1 = byName.get('edge-1')!;
  assert.equal(e1.status, 'online');
  assert.equal(e1.state, 'detecting');
  assert.deepEqual(e1.model, { name: 'device', version: 3 });
  assert.equal(e1.alerts24h, 2);
  assert.equal(e1.stats?.counters.events, 42);
  const early = byName.get('early')!;
  assert.equal(early.status, 'online');
  assert.equal(early.state, 'learning');

  const tl = (await get('/api/timeline?since=2h&bucket=1h')).body as { buckets: { anomaly: number; new_program: number }[] };
  assert.equal(tl.buckets.reduce((s, b) => s + b.anomaly, 0), 1);
  assert.equal(tl.buckets.reduce((s, b) => s + b.new_program, 0), 1);
  assert.equal(hub.ingest.counters.alertsUpdated, 1);
  assert.equal(hub.ingest.counters.alertsDuplicate, 1);
});

void test('tokens: none or a wrong one is refused; the read-only token reads but cannot send commands; queries are checked', async () => {
  const none = await get('/api/nodes', '');
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
  assert.equal((await get('/api/alerts', 'operator-token-0123456780')).status, 401);
  assert.equal((await get('/metrics', '')).status, 401);
  assert.equal((await get('/api/nodes', READ)).status, 200);
  const refused = await post('/api/nodes/edge-1/commands', { command: 'status' }, READ);
  assert.equal(refused.status, 403);
  assert.equal((await get('/api/alerts?limit=0')).status, 400);
  assert.equal((await get('/api/alerts?kind=<b>')).status, 400);
  assert.equal((await get('/api/alerts?since=whenever')).status, 400);
  assert.match(String((await get('/api/alerts?sort=x')).body.error), /unknown parameter sort/);
  assert.equal((await get('/healthz', '')).status, 200);
  const page = await get('/', '');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
});

void test('a command goes to the node\'s cmd topic; its result comes back and is stored; bad commands are refused', async () => {
  const cmdSub = await Subscriber.connect(broker.url, 'argos/edge-1/cmd');
  try {
    const sent = await post('/api/nodes/edge-1/commands', { command: 'allow', alert: 'alert-000001' });
    assert.equal(sent.status, 202);
    const command = sent.body.command as { id: string; command: string; alert: string };
    assert.equal(command.command, 'allow');
    await cmdSub.waitFor((s) => s.on('argos/edge-1/cmd').length === 1, 'the command on the node topic');
    assert.deepEqual(JSON.parse(cmdSub.on('argos/edge-1/cmd')[0].payload), command);
    const result = { id: command.id, node: 'edge-1', time: new Date().toISOString(), command: 'allow', ok: true, message: 'alert allowed' };
    await node.publishAsync('argos/edge-1/cmd/result', JSON.stringify(result), { qos: 1 });
    await waitFor(() => hub.ingest.counters.stored.result === 1, 'the result stored');
    const cmds = (await get('/api/nodes/edge-1/commands')).body.commands as { command: { id: string }; result: { ok: boolean; message: string } | null }[];
    assert.equal(cmds[0].command.id, command.id);
    assert.deepEqual(cmds[0].result, result);

    assert.equal((await post('/api/nodes/edge-1/commands', { command: 'reboot' })).status, 400);
    assert.equal((await post('/api/nodes/edge-1/commands', { command: 'allow', alert: 'a', program: '/bin/x' })).status, 400);
    assert.equal((await post('/api/nodes/edge-1/commands', 'not json')).status, 400);
    assert.equal((await post('/api/nodes/nobody/commands', { command: 'status' })).status, 404);
    assert.equal((await post('/api/nodes/a%2Bb/commands', { command: 'status' })).status, 400);
    assert.equal(cmdSub.on('argos/edge-1/cmd').length, 1, 'refused commands were not published');
  } finally {
    await cmdSub.close();
  }
});

void test('bad input is refused and counted, never stored, and the stream goes on', async () => {
  const before = { ...hub.ingest.counters.refused };
  const a = makeAlert(50, Date.now(), { node: 'edge-1' });
  await node.publishAsync('argos/edge-1/alert', 'not json at all', { qos: 1 });
  await node.publishAsync('argos/edge-1/alert', Buffer.alloc(70_000, 0x7b), { qos: 1 });
  await node.publishAsync('argos/edge-1/alert', JSON.stringify({ ...a, node: 'edge-2' }), { qos: 1 });
  await node.publishAsync('argos/edge 1<script>/alert', JSON.stringify(a), { qos: 1 });
  await node.publishAsync('argos/edge-1/alert', JSON.stringify({ ...a, score: 'high' }), { qos: 1 });
  await node.publishAsync('argos/edge-1/alert', JSON.stringify(a), { qos: 1 });
  await waitFor(() => hub.ingest.counters.stored.alert === 5, 'the good alert after the bad ones');
  const r = hub.ingest.counters.refused;
  assert.deepEqual(
    { not_json: r.not_json - before.not_json, too_large: r.too_large - before.too_large, node_mismatch: r.node_mismatch - before.node_mismatch, topic: r.topic - before.topic, invalid: r.invalid - before.invalid },
    { not_json: 1, too_large: 1, node_mismatch: 1, topic: 1, invalid: 1 },
  );
  assert.equal((await alerts('?node=edge-1')).length, 3);
  const metrics = await get('/metrics', READ);
  assert.match(String(metrics.body.text), /argos_hub_messages_refused_total\{reason="not_json"\} 1/);
  assert.match(String(metrics.body.text), /argos_hub_alert_writes_total\{result="inserted"\} 3/);
});
