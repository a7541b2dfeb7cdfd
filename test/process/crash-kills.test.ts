// Crash consistency: `argos run` is SIGKILLed 20 times at random points while it reads events,
// stores alerts and delivers them over MQTT, with the broker going up and down between runs.
// After every kill the database passes PRAGMA integrity_check and still holds every alert it
// held before; at the end every stored alert has reached a subscriber: each id at least once,
// duplicates (a PUBACK lost with the process) few and counted. Seeded, so a failure repeats;
// ARGOS_CRASH_SEED changes the kill points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startCli, type CliRun } from '../helpers/cli.js';
import { waitFor } from '../helpers/fake-time.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Subscriber } from '../helpers/mqtt-subscriber.js';
import { prng } from '../../src/core/random.js';
import type { Alert } from '../../src/core/alert.js';

const KILLS = 20;
const SEED = Number(process.env.ARGOS_CRASH_SEED ?? 16);

function processLines(i: number): string {
  const proc = `"process":{"exec_id":"crash-${i}","pid":${20_000 + i},"binary":"/bin/c${i}","arguments":"-x"}`;
  const lines = [`{"process_exec":{${proc}},"time":"2025-01-01T00:00:00Z"}`];
  for (let k = 0; k < 12; k++) lines.push(`{"process_tracepoint":{${proc},"subsys":"raw_syscalls","event":"sys_enter","args":[{"syscall_id":{"id":${k % 7},"abi":"x64"}}]},"time":"2025-01-01T00:00:00Z"}`);
  lines.push(`{"process_exit":{${proc}},"time":"2025-01-01T00:00:00Z"}`);
  return `${lines.join('\n')}\n`;
}

/** Integrity and the stored alert ids, read by a connection of our own (as after a reboot). */
function inspect(path: string): { integrity: string; ids: string[] } {
  const db = new Database(path);
  try {
    const integrity = String(db.pragma('integrity_check', { simple: true }));
    // Killed before its first migration: an empty database.
    const migrated = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'alerts'").get() !== undefined;
    const ids = migrated ? (db.prepare('SELECT id FROM alerts ORDER BY rowid').all() as { id: string }[]).map((r) => r.id) : [];
    return { integrity, ids };
  } finally {
    db.close();
  }
}

void test(`SIGKILL ${KILLS} times at random points while storing and delivering, broker up and down: nothing stored is lost or damaged`, async (t) => {
  const random = prng(SEED);
  const broker = await Mosquitto.start({ persistence: true });
  const dir = mkdtempSync(join(tmpdir(), 'argos-kills-'));
  const db = join(dir, 'argos.db');
  const sub = await Subscriber.connect(broker.url, 'argos/kill-node/alert', 'kill-subscriber');
  let run: CliRun | undefined;
  t.after(async () => {
    if (run && run.child.exitCode === null) run.child.kill('SIGKILL');
    await sub.close();
    await broker.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = { ARGOS_SOURCE: 'stdin', ARGOS_DB_PATH: db, ARGOS_HTTP_ADDRESS: '', ARGOS_THRESHOLD: '0', ARGOS_MIN_WINDOW: '8', ARGOS_MQTT_URL: broker.url, ARGOS_NODE_NAME: 'kill-node', ARGOS_LOG_LEVEL: 'warn', ARGOS_DRAIN_TIMEOUT: '30s' };
  let fed = 0;
  let before: string[] = [];
  const killedWith: string[] = [];
  for (let kill = 1; kill <= KILLS; kill++) {
    // The broker's state for this run: up about two runs in three.
    if (random() < 0.65) await broker.start();
    else await broker.stop();
    run = startCli(['run'], { env, keepStdin: true, limitMs: 120_000 });
    const child = run;
    // Writes after the kill fail with EPIPE: expected.
    child.child.stdin?.on('error', () => undefined);
    // Feed processes (each raises one alert) until the kill, which comes at a random point.
    const feeder = setInterval(() => {
      if (child.child.stdin?.writable) child.child.stdin.write(processLines(fed++));
    }, 5);
    const wait = 300 + Math.floor(random() * 2500);
    await new Promise((r) => setTimeout(r, wait));
    clearInterval(feeder);
    assert.equal(child.child.exitCode, null, `run ${kill} ended by itself: ${child.out().stderr.slice(-2000)}`);
    child.child.kill('SIGKILL');
    const r = await child.done;
    assert.equal(r.signal, 'SIGKILL');
    killedWith.push(`${wait} ms, broker ${broker.running ? 'up' : 'down'}`);
    const after = inspect(db);
    assert.equal(after.integrity, 'ok', `integrity after kill ${kill}`);
    const kept = new Set(after.ids);
    for (const id of before) assert.ok(kept.has(id), `alert ${id} stored before kill ${kill} is still there`);
    before = after.ids;
  }
  assert.ok(before.length > KILLS, `alerts were stored along the way (${before.length})`);

  // The broker up for good: a last run delivers what is left and ends with its (empty) input.
  await broker.start();
  const last = startCli(['run'], { env, input: '', limitMs: 120_000 });
  const r = await last.done;
  assert.equal(r.code, 0, r.stderr.slice(-2000));
  const stored = inspect(db);
  assert.equal(stored.integrity, 'ok');
  const received = (): string[] => sub.messages.map((m) => (JSON.parse(m.payload) as Alert).id);
  await waitFor(() => new Set(received()).size >= new Set(stored.ids).size, 'every stored alert at the subscriber', 30_000);
  const got = new Set(received());
  for (const id of stored.ids) assert.ok(got.has(id), `alert ${id} was delivered`);
  const duplicates = received().length - got.size;
  // A message is sent again only when its PUBACK was lost with the killed process: at most the
  // messages in flight at each kill (16).
  assert.ok(duplicates <= KILLS * 16, `${duplicates} duplicates`);
  t.diagnostic(`kills ${KILLS} (${killedWith.join('; ')}), alerts stored ${stored.ids.length}, delivered ${got.size}, duplicates ${duplicates}`);
});
