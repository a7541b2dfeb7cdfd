// A fatal error at any step of the start ends `argos run` (and `argos replay`) by itself, at
// once, with a non-zero code and one readable line: nothing it had already opened (classifier
// worker threads, the database, a listening socket, an MQTT client) keeps the process alive.
// The entry point would force an exit 5 s after a command ended and say so; these tests fail
// when that message appears, so a leaked handle is a failure here, not a slow pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCli, type CliResult } from '../helpers/cli.js';
import { freePort } from '../helpers/mosquitto.js';
import { openBetterSqlite3 } from '../../src/store/better-sqlite3.js';

const LINGER = /kept the process alive/;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'argos-start-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `argos run` from standard input (no Tetragon), no HTTP server unless asked. */
function run(dir: string, env: Record<string, string>, args: string[] = ['run']): Promise<CliResult> {
  return runCli(args, {
    env: { ARGOS_SOURCE: 'stdin', ARGOS_DB_PATH: join(dir, 'argos.db'), ARGOS_HTTP_ADDRESS: '', ARGOS_LOG_LEVEL: 'error', ...env },
    input: '',
    // A hang is killed here and fails the test (code null).
    limitMs: 60_000,
  });
}

function assertFatal(r: CliResult, message: RegExp): void {
  assert.notEqual(r.code, null, `the process had to be killed: it hung\n${r.stderr}`);
  assert.notEqual(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, LINGER, 'the process ended by itself');
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

void test('start step "store": a database path that cannot be created ends run and replay', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'plain'), 'x');
  const r = await run(dir, { ARGOS_DB_PATH: join(dir, 'plain', 'argos.db') });
  assertFatal(r, /argos: cannot open the database .*plain\/argos\.db/);
  const replay = await run(dir, {}, ['replay', '--demo', '--db', join(dir, 'plain', 'argos.db')]);
  assertFatal(replay, /argos: cannot open the database/);
});

void test('start step "store": a database written by a newer Argos is refused (not set aside), exit 78', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'argos.db');
  const db = openBetterSqlite3(path);
  db.exec('CREATE TABLE alerts (id TEXT); CREATE TABLE outbox (id INTEGER); CREATE TABLE processes (id TEXT); PRAGMA user_version = 999');
  db.close();
  const r = await run(dir, {});
  assertFatal(r, /newer Argos/);
  assert.equal(r.code, 78, 'an exit status systemd does not restart on');
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('unusable')), []);
});

void test('start step "model": a missing model folder ends run', async (t) => {
  const dir = tempDir(t);
  assertFatal(await run(dir, { ARGOS_MODEL_DIR: join(dir, 'no-model') }), /argos: .*no-model/);
});

void test('start step "classifier": a model file ONNX Runtime cannot load ends run', async (t) => {
  const dir = tempDir(t);
  const model = join(dir, 'model');
  cpSync(join(ROOT, 'models/default'), model, { recursive: true });
  writeFileSync(join(model, 'model.onnx'), 'this is not an ONNX graph');
  assertFatal(await run(dir, { ARGOS_MODEL_DIR: model }), /argos: .*model\.onnx|argos: .*ONNX|argos: .*protobuf/i);
  assertFatal(await run(dir, { ARGOS_MODEL_DIR: model, ARGOS_CLASSIFIER_MODE: 'inline' }), /argos: /);
});

void test('start step "reporters": an unreadable MQTT CA file ends run', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const r = await run(dir, { ARGOS_MQTT_URL: `mqtts://127.0.0.1:${port}`, ARGOS_MQTT_CA: join(dir, 'missing-ca.pem') });
  assertFatal(r, /argos: ARGOS_MQTT_CA: cannot read/);
});

void test('start step "health": an HTTP address already in use ends run', async (t) => {
  const dir = tempDir(t);
  const busy: Server = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.after(() => busy.close());
  const addr = busy.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  assertFatal(await run(dir, { ARGOS_HTTP_ADDRESS: `127.0.0.1:${port}` }), /argos: .*(EADDRINUSE|in use)/i);
});

void test('start step "source": a replay file that does not exist ends run', async (t) => {
  const dir = tempDir(t);
  assertFatal(await run(dir, { ARGOS_SOURCE: 'replay', ARGOS_REPLAY_FILE: join(dir, 'missing.jsonl') }), /argos: replay file .*missing\.jsonl.* does not exist/);
});

void test('a damaged or foreign database at start is moved aside with a timestamp, a fresh one is used, an error is logged', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'argos.db');
  const garbage = Buffer.alloc(16384, 0x5a);
  writeFileSync(path, garbage);
  const r = await run(dir, { ARGOS_LOG_LEVEL: 'error' });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, LINGER);
  const aside = readdirSync(dir).filter((f) => /^argos\.db\.unusable-\d{4}-\d\d-\d\dT[\d-]+Z$/.test(f));
  assert.equal(aside.length, 1, readdirSync(dir).join(' '));
  assert.deepEqual(readFileSync(join(dir, aside[0])), garbage, 'kept as it was, never deleted');
  assert.match(r.stderr, /"level":50.*moved it aside/);
  assert.ok(existsSync(path));

  // Someone else's SQLite database at the same place: also set aside (and kept).
  rmSync(path);
  const other = openBetterSqlite3(path);
  other.exec("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO photos (name) VALUES ('cat')");
  other.close();
  const again = await run(dir, {});
  assert.equal(again.code, 0, again.stderr);
  const moved = readdirSync(dir).filter((f) => f.includes('.unusable-') && !f.endsWith('-wal') && !f.endsWith('-shm'));
  assert.equal(moved.length, 2);
  // And a restart with the fresh database sets nothing aside: no crash loop.
  const third = await run(dir, {});
  assert.equal(third.code, 0, third.stderr);
  assert.equal(readdirSync(dir).filter((f) => f.includes('.unusable-') && !f.endsWith('-wal') && !f.endsWith('-shm')).length, 2);
});
