// `argos doctor` against real local services (a TCP listener as the broker, an HTTP server as
// ntfy, a running health endpoint), a real model opened with ONNX Runtime and a real database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { runInProcess } from '../helpers/cli.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/logger.js';
import { HealthServer } from '../../src/health/server.js';
import { brokerAddress, formatDoctor, runDoctor, type DoctorCheck } from '../../src/doctor/index.js';
import { writeModelFolder } from './onnx-models.js';
import { SqliteStore } from '../../src/store/store.js';
import { makeAlert } from '../helpers/alerts.js';

type T = { after(fn: () => unknown): void };

function scratch(t: T): string {
  const d = mkdtempSync(join(tmpdir(), 'argos-doctor-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function listen(server: Server | ReturnType<typeof createTcpServer>, t: T): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  return (server.address() as AddressInfo).port;
}

/** A port that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function doctor(env: Record<string, string>, cwd: string): Promise<{ code: number; out: string; checks: Map<string, DoctorCheck> }> {
  const { code, stdout: out, stderr: err } = await runInProcess(['doctor', '--json', '--timeout', '1500'], { env: { PATH: process.env.PATH, ...env }, cwd });
  assert.ok(out.trim() !== '', `argos doctor printed nothing (exit ${code}): ${err}`);
  const parsed = JSON.parse(out) as { ok: boolean; checks: DoctorCheck[] };
  assert.equal(parsed.ok, code === 0);
  return { code, out, checks: new Map(parsed.checks.map((c) => [c.name, c])) };
}

void test('doctor: everything reachable and usable → exit 0', async (t) => {
  const dir = scratch(t);
  const model = writeModelFolder(dir, 'model');
  const recording = join(dir, 'rec.jsonl');
  writeFileSync(recording, '');
  const broker = createTcpServer((s) => s.destroy());
  const brokerPort = await listen(broker, t);
  const ntfy = createHttpServer((req, res) => res.writeHead(req.url === '/v1/health' ? 200 : 404, { 'content-type': 'application/json' }).end('{"healthy":true}'));
  const ntfyPort = await listen(ntfy, t);
  const health = new HealthServer({ address: '127.0.0.1:0', registry: new Registry(), probes: [{ name: 'x', check: () => ({ ok: true, detail: 'fine' }) }], log: silentLogger() });
  await health.start();
  t.after(() => health.stop());

  const { code, checks } = await doctor(
    {
      ARGOS_SOURCE: 'replay',
      ARGOS_REPLAY_FILE: recording,
      ARGOS_MODEL_DIR: model,
      ARGOS_DB_PATH: join(dir, 'db', 'argos.db'),
      ARGOS_MQTT_URL: `mqtt://127.0.0.1:${brokerPort}`,
      ARGOS_NTFY_SERVER: `http://127.0.0.1:${ntfyPort}`,
      ARGOS_NTFY_TOPIC: 'alerts',
      ARGOS_HTTP_ADDRESS: `127.0.0.1:${health.address()!.port}`,
    },
    dir,
  );
  assert.equal(code, 0, JSON.stringify([...checks.values()].filter((c) => c.status === 'fail')));
  assert.match(checks.get('model')!.detail, /^weighted-sum-test .*window 8, threshold 20.*ONNX Runtime scores it/);
  assert.match(checks.get('database')!.detail, /argos\.db does not exist yet; the daemon will create it/);
  assert.equal(existsSync(join(dir, 'db')), false, 'doctor created nothing');
  assert.equal(checks.get('mqtt broker')!.status, 'ok');
  assert.match(checks.get('ntfy')!.detail, /HTTP 200/);
  assert.match(checks.get('health endpoint')!.detail, /a running Argos answers on 127\.0\.0\.1:\d+: ok/);
  assert.equal(checks.get('privileges')!.status === 'fail', false, 'replay needs no privileges');
});

void test('doctor: each broken part fails with what to fix → exit 1', async (t) => {
  const dir = scratch(t);
  const ntfy = createHttpServer((_req, res) => res.writeHead(503).end());
  const ntfyPort = await listen(ntfy, t);
  const plainFile = join(dir, 'plain');
  writeFileSync(plainFile, '');
  const { code, checks } = await doctor(
    {
      ARGOS_SOURCE: 'export',
      ARGOS_EXPORT_FILE: join(dir, 'no-such.log'),
      ARGOS_MODEL_DIR: join(dir, 'no-model'),
      ARGOS_DB_PATH: join(plainFile, 'argos.db'),
      ARGOS_MQTT_URL: `mqtt://127.0.0.1:${await closedPort()}`,
      ARGOS_NTFY_SERVER: `http://127.0.0.1:${ntfyPort}`,
      ARGOS_NTFY_TOPIC: 'alerts',
      ARGOS_HTTP_ADDRESS: `127.0.0.1:${await closedPort()}`,
    },
    dir,
  );
  assert.equal(code, 1);
  const failed = (name: string, detail: RegExp, fix: RegExp) => {
    const c = checks.get(name);
    assert.ok(c, `${name} checked`);
    assert.equal(c.status, 'fail', `${name}: ${c.detail}`);
    assert.match(c.detail, detail);
    assert.match(c.fix ?? '', fix);
  };
  failed('tetragon export file', /no-such\.log: does not exist/, /--export-filename|ARGOS_EXPORT_FILE/);
  failed('model', /no-model: the model folder does not exist/, /ARGOS_MODEL_DIR/);
  failed('database', /cannot open the database .*plain\/argos\.db \((ENOTDIR|EEXIST)\)/, /ARGOS_DB_PATH/);
  failed('mqtt broker', /ECONNREFUSED/, /ARGOS_MQTT_URL/);
  failed('ntfy', /answered 503/, /ARGOS_NTFY_SERVER/);
  assert.match(checks.get('health endpoint')!.detail, /is free for \/healthz and \/metrics/);
});

void test('doctor: managed Tetragon without privileges or binary; the report says what to do', async (t) => {
  const dir = scratch(t);
  const fake = join(dir, 'tetragon');
  writeFileSync(fake, '#!/bin/sh\necho "CLI version: v1.5.0"\n');
  chmodSync(fake, 0o755);
  const base = { model: async () => 'test model', database: async () => 'test db', timeoutMs: 1000 };
  const noCaps = async () => 'Name:\targos\nCapEff:\t0000000000000000\n';
  const noTracefs = async () => 'proc /proc proc rw 0 0\n';

  let checks = await runDoctor(loadConfig({ env: { ARGOS_TETRAGON_BIN: fake, ARGOS_HTTP_ADDRESS: `127.0.0.1:${await closedPort()}` } }), { env: {}, readStatus: noCaps, readMounts: noTracefs, ...base });
  const by = new Map(checks.map((c) => [c.name, c]));
  assert.equal(by.get('tetragon')!.status, 'ok');
  assert.match(by.get('tetragon')!.detail, /tetragon \(CLI version: v1\.5\.0\)/);
  assert.equal(by.get('privileges')!.status, 'fail');
  assert.match(by.get('privileges')!.detail, /\(missing: CAP_SYS_ADMIN, CAP_PERFMON, CAP_BPF\)$/);
  assert.match(by.get('privileges')!.fix!, /run Argos as root/);
  assert.equal(by.get('tracefs')!.status, 'warn');
  const text = formatDoctor(checks);
  assert.match(text, /^FAIL {2}privileges +Tetragon needs root/m);
  assert.match(text, /fix: mount -t tracefs nodev \/sys\/kernel\/tracing/);
  assert.match(text, /1 problem to fix before Argos can run, 2 warnings\.\n$/);

  checks = await runDoctor(loadConfig({ env: { ARGOS_TETRAGON_BIN: join(dir, 'missing') } }), { env: {}, readStatus: noCaps, readMounts: noTracefs, ...base });
  const missing = checks.find((c) => c.name === 'tetragon')!;
  assert.equal(missing.status, 'fail');
  assert.match(missing.fix!, /install Tetragon/);
});

void test('broker addresses take the scheme default port', () => {
  assert.deepEqual(brokerAddress('mqtt://broker'), { host: 'broker', port: 1883 });
  assert.deepEqual(brokerAddress('mqtts://broker'), { host: 'broker', port: 8883 });
  assert.deepEqual(brokerAddress('tcp://127.0.0.1:1884'), { host: '127.0.0.1', port: 1884 });
  assert.deepEqual(brokerAddress('ws://[::1]:9001'), { host: '::1', port: 9001 });
});

void test('doctor: an existing database is checked read-only; nothing in its folder changes', async (t) => {
  const dir = scratch(t);
  const path = join(dir, 'argos.db');
  const store = new SqliteStore({ path });
  await store.start();
  store.saveAlert(makeAlert(1, Date.now()), ['mqtt', 'ntfy']);
  await store.stop();
  const before = new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
  const { checks } = await doctor({ ARGOS_SOURCE: 'stdin', ARGOS_DB_PATH: path, ARGOS_HTTP_ADDRESS: '' }, dir);
  assert.equal(checks.get('database')!.status, 'ok', checks.get('database')!.detail);
  assert.match(checks.get('database')!.detail, /argos\.db is usable \(2 messages waiting for delivery\)/);
  assert.deepEqual(new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))])), before);

  writeFileSync(path, Buffer.alloc(4096, 0x41));
  const damaged = await doctor({ ARGOS_SOURCE: 'stdin', ARGOS_DB_PATH: path, ARGOS_HTTP_ADDRESS: '' }, dir);
  assert.equal(damaged.checks.get('database')!.status, 'fail');
  assert.match(damaged.checks.get('database')!.detail, /unusable/);
  assert.deepEqual(readFileSync(path), Buffer.alloc(4096, 0x41), 'left as it was (the daemon sets it aside)');
});

void test('doctor never prints credentials inside URLs', async (t) => {
  const dir = scratch(t);
  const { out } = await doctor(
    {
      ARGOS_SOURCE: 'stdin',
      ARGOS_DB_PATH: join(dir, 'argos.db'),
      ARGOS_HTTP_ADDRESS: '',
      ARGOS_MQTT_URL: `mqtt://argos:hunter2@127.0.0.1:${await closedPort()}`,
      ARGOS_MQTT_USERNAME: 'argos',
      ARGOS_NTFY_SERVER: `http://admin:s3cret@127.0.0.1:${await closedPort()}/?auth=tok-9`,
      ARGOS_NTFY_TOPIC: 'alerts',
    },
    dir,
  );
  for (const secret of ['hunter2', 's3cret', 'tok-9']) assert.ok(!out.includes(secret), `doctor printed ${secret}: ${out}`);
  assert.match(out, /argos:redacted@127\.0\.0\.1/);
});
