// `argos replay`: the whole pipeline over a recording, as a user runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli, lastJson, ROOT } from '../helpers/cli.js';

/** A recording of ADFA-LD traces (held out from training the default model), 52 processes. */
const ADFA = join(ROOT, 'models/demo/adfa-ld.jsonl.gz');
/** What --demo replays: real programs and attacks recorded on a Debian host. */
const HOST = join(ROOT, 'models/recordings/debian12-x64/attacks.jsonl.gz');
const KEYS = ['events', 'malformed', 'syscalls', 'processes', 'windows', 'alerts', 'undelivered', 'seconds'];

function lines(file: string): string[] {
  return gunzipSync(readFileSync(file)).toString('utf8').trim().split('\n');
}

function demoLines(): string[] {
  return lines(ADFA);
}

test('replay --demo --json: one summary object as the last line, counting the recording', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'argos-replay-test-'));
  try {
    const r = await runCli(['replay', '--demo', '--json'], { env: { TMPDIR: tmp } });
    assert.equal(r.code, 0, r.stderr);
    const s = lastJson(r.stdout);
    assert.deepEqual(Object.keys(s), KEYS);
    const all = lines(HOST);
    assert.equal(s.events, all.length);
    assert.equal(s.malformed, 0);
    assert.equal(s.syscalls, all.filter((l) => l.startsWith('{"process_tracepoint"')).length);
    assert.equal(s.processes, new Set(all.map((l) => /"exec_id":"([^"]+)"/.exec(l)?.[1])).size);
    assert.ok((s.alerts as number) > 0, 'the demo holds attacks the host model flags');
    // tsx (which runs the checkout's TypeScript) keeps its compile cache there; nothing else may stay.
    assert.deepEqual(readdirSync(tmp).filter((f) => !f.startsWith('tsx-')), [], 'the temporary database is removed and ONNX Runtime leaves nothing in TMPDIR');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('replay --demo prints what it caught and why: real attacks by the host model', async () => {
  const r = await runCli(['replay', '--demo']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^model debian12-x64-ngram6: window 1024, delta 256, threshold 1$/m);
  assert.match(r.stdout, /^ {2}new program {2}pid \d+ +\/(tmp|dev\/shm)\/\.cache-\d+-\d+$/m, 'the dropped binary is a new program');
  assert.match(r.stdout, /^ {6}attack: dropped_binary#\d$/m);
  assert.match(r.stdout, /^ {6}new program: first start of a program the model never saw, run from (a temporary folder \(\/tmp\)|shared memory \(\/dev\/shm\))$/m);
  assert.match(r.stdout, /^ {6}why: [a-z_0-9 ]+ \(\d+\.\d\)$/m, 'anomalies say which calls surprised the model');
  const caught = /^attacks caught: (\d+) of 32 \((.*)\)$/m.exec(r.stdout);
  assert.ok(caught, r.stdout);
  assert.ok(Number(caught[1]) >= 29, `most attacks are caught: ${caught[0]}`);
  for (const type of ['reverse_shell', 'dropped_binary', 'persistence_user', 'exfiltration']) assert.match(caught[2], new RegExp(`${type} 4/4`));
  const flagged = /^normal processes flagged: (\d+)$/m.exec(r.stdout);
  assert.ok(flagged !== null && Number(flagged[1]) < 40, `few normal processes flagged: ${flagged?.[0]}`);
});

test('replay - reads standard input; bad lines are counted, not fatal', async () => {
  const lines = demoLines().slice(0, 3000);
  const input = [...lines.slice(0, 1000), 'not json', '{"process_tracepoint":{"process":', '', ...lines.slice(1000)].join('\n');
  const r = await runCli(['replay', '-', '--json'], { input });
  assert.equal(r.code, 0, r.stderr);
  const s = lastJson(r.stdout);
  assert.equal(s.malformed, 2);
  assert.equal(s.events, 3000, 'lines that are not events are malformed, not events; the empty line is neither');
});

test('replay --db keeps the alerts, and argos alerts lists them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-replay-db-'));
  try {
    const db = join(dir, 'alerts.db');
    const r = await runCli(['replay', ADFA, '--json', '--db', db]);
    assert.equal(r.code, 0, r.stderr);
    const alerts = lastJson(r.stdout).alerts as number;
    const list = await runCli(['alerts', '--json'], { env: { ARGOS_DB_PATH: db } });
    assert.equal(list.code, 0, list.stderr);
    const text = list.stdout.trim();
    const parsed = (text.startsWith('[') ? JSON.parse(text) : text.split('\n').map((l) => JSON.parse(l))) as { id: string; process: { binary: string } }[];
    assert.equal(parsed.length, alerts);
    assert.ok(parsed.every((a) => typeof a.id === 'string' && a.process.binary.startsWith('/adfa-ld/')));
    // A counters snapshot is kept with the alerts.
    const sqlite = new Database(db, { readonly: true });
    try {
      const rows = sqlite.prepare('SELECT json FROM counters ORDER BY at').all() as { json: string }[];
      assert.ok(rows.length >= 1);
      assert.equal((JSON.parse(rows[rows.length - 1].json) as { alerts: number }).alerts, alerts);
    } finally {
      sqlite.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('replay errors are one clear line with the right exit code', async () => {
  const missing = await runCli(['replay', '/nonexistent/recording.jsonl']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /replay file "\/nonexistent\/recording.jsonl" does not exist/);
  assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace');

  const none = await runCli(['replay']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /which recording\?/);

  const speed = await runCli(['replay', '--demo', '--speed', 'warp']);
  assert.equal(speed.code, 2);
  assert.match(speed.stderr, /speed "warp"/);

  const config = await runCli(['replay', '--demo'], { env: { SLIDING_WINDOW_SIZE: 'big', ARGOS_BATCH_SIZE: '0' } });
  assert.equal(config.code, 78);
  assert.match(config.stderr, /SLIDING_WINDOW_SIZE: must be a number/);
  assert.match(config.stderr, /ARGOS_BATCH_SIZE: must be at least 1/);

  const tooWide = await runCli(['replay', '--demo'], { env: { SLIDING_WINDOW_SIZE: '2048' } });
  assert.equal(tooWide.code, 78);
});

test('replay of a file without a single event says so: exit 2 for lines that are not events, 0 for an empty file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-replay-empty-'));
  try {
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    const r = await runCli(['replay', empty, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = lastJson(r.stdout);
    assert.equal(s.events, 0);
    assert.equal(s.alerts, 0);
    assert.match(r.stderr, /argos: .*empty\.jsonl holds no line; nothing was replayed/);

    // Random bytes: lines split at the newline bytes; every one of them is malformed.
    let seed = 7;
    const bytes = Buffer.from(new Uint8Array(64 * 1024).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff));
    const random = join(dir, 'random.bin');
    writeFileSync(random, bytes);
    const lines = bytes
      .toString('latin1')
      .split('\n')
      .filter((l) => l.trim() !== '').length;
    const rr = await runCli(['replay', random, '--json']);
    assert.equal(rr.code, 2, rr.stderr);
    const rs = lastJson(rr.stdout);
    assert.equal(rs.events, 0);
    assert.equal(rs.malformed, lines);
    const human = await runCli(['replay', random]);
    assert.equal(human.code, 2);
    assert.match(human.stdout, /^0 events \(\d+ malformed\)/m);
    assert.match(human.stderr, new RegExp(`no line of .*random\\.bin was a Tetragon event \\(${lines} malformed lines\\)`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('replay --model uses that model folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-replay-model-'));
  try {
    const r = await runCli(['replay', '--demo', '--model', join(dir, 'nothing-here')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /nothing-here/);
    const ok = await runCli(['replay', '--demo', '--model', join(ROOT, 'models/default')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^model linux-generic-ngram6:/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('replay with an unreachable broker reports the undelivered messages truthfully, with and without --db', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-replay-undelivered-'));
  try {
    // Nothing listens on port 9 of 127.0.0.1 (discard; closed here): every connection is refused.
    const env = { ARGOS_MQTT_URL: 'mqtt://127.0.0.1:9', ARGOS_DRAIN_TIMEOUT: '1s' };
    const json = await runCli(['replay', '--demo', '--json'], { env });
    assert.equal(json.code, 0, json.stderr);
    const s = lastJson(json.stdout);
    assert.ok((s.alerts as number) > 0);
    // One MQTT message per alert, and one more for each alert whose count grew: none acknowledged.
    assert.ok((s.undelivered as number) >= (s.alerts as number), JSON.stringify(s));
    const human = await runCli(['replay', '--demo'], { env });
    assert.match(human.stdout, new RegExp(`^${String(s.undelivered)} messages not delivered .* are lost with the temporary database; replay with --db FILE to keep them$`, 'm'));
    assert.doesNotMatch(human.stdout, /stay in the outbox/);
    const db = join(dir, 'kept.db');
    const kept = await runCli(['replay', '--demo', '--db', db], { env });
    assert.match(kept.stdout, new RegExp(`stay in the outbox of ${db.replace(/[/.]/g, '\\$&')}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the demo\'s stored alerts are the documented JSON: new programs with why they matter, anomalies with why they scored', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-replay-kinds-'));
  try {
    const db = join(dir, 'alerts.db');
    const r = await runCli(['replay', '--demo', '--json', '--db', db]);
    assert.equal(r.code, 0, r.stderr);
    const list = await runCli(['alerts', '--json', '--limit', '1000'], { env: { ARGOS_DB_PATH: db } });
    const alerts = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { kind: string; process: { binary: string } });
    const dropped = alerts.find((a) => a.kind === 'new_program' && /^\/(tmp|dev\/shm)\//.test(a.process.binary));
    assert.ok(dropped, 'a binary run from a temporary place is a new program');
    assert.equal(dropped.priority, 5);
    assert.equal(dropped.writable, true);
    assert.equal(dropped.program, dropped.process.binary);
    const anomalies = alerts.filter((a) => a.kind === 'anomaly');
    assert.ok(anomalies.length > 0);
    for (const a of anomalies) {
      const why = a.why as { calls: string; surprisal: number }[];
      assert.ok(why.length >= 1 && why.length <= 3, JSON.stringify(a));
      assert.match(why[0].calls, /^[a-z_0-9]+( [a-z_0-9]+){0,4}$/);
      assert.ok(why[0].surprisal > 0);
      assert.equal(a.threshold, 1);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
