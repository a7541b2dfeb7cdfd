// `argos run` as systemd or a user runs it: with a (fake) Tetragon that dies, restarted with
// backoff while the daemon keeps counting, and a clean stop on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, ROOT } from '../helpers/cli.js';
import { waitFor } from '../helpers/fake-time.js';
import { freePort } from '../helpers/mosquitto.js';

const FAKE = join(ROOT, 'test/fixtures/fake-tetragon');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function metric(port: number, name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

test('run with a managed Tetragon that keeps dying: restarted with backoff, events keep counting, SIGTERM stops both', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-run-'));
  const fakeLog = join(dir, 'fake.log');
  // 400 events of the demo recording per Tetragon life.
  const recording = join(dir, 'rec.jsonl');
  writeFileSync(recording, gunzipSync(readFileSync(join(ROOT, 'models/demo/adfa-ld.jsonl.gz'))).toString().split('\n').slice(0, 400).join('\n') + '\n');
  const port = await freePort();
  const run = startCli(['run'], {
    env: {
      ARGOS_SOURCE: 'managed',
      ARGOS_TETRAGON_BIN: FAKE,
      ARGOS_TETRAGON_EXPORT_FILE: join(dir, 'export', 'tetragon.log'),
      ARGOS_DB_PATH: join(dir, 'argos.db'),
      ARGOS_HTTP_ADDRESS: `127.0.0.1:${port}`,
      ARGOS_LOG_LEVEL: 'info',
      FAKE_TETRAGON_RECORDING: recording,
      FAKE_TETRAGON_EXIT_AFTER: '300',
      FAKE_TETRAGON_LOG: fakeLog,
    },
    limitMs: 90_000,
  });
  const starts = () => (existsSync(fakeLog) ? readFileSync(fakeLog, 'utf8').split('\n').filter((l) => l.startsWith('start ')) : []);
  try {
    await waitFor(() => starts().length >= 3 || run.child.exitCode !== null, 'three Tetragon starts', 60_000);
    assert.equal(run.child.exitCode, null, `the daemon must stay up:\n${run.out().stderr}`);
    const first = JSON.parse(starts()[0].split(' ').slice(2).join(' ')) as string[];
    assert.ok(first.includes('--tracing-policy') && first.includes('--export-filename') && first.includes('--export-allowlist'), first.join(' '));

    let events = 0;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      events = await metric(port, 'argos_events_total');
      if (events >= 800) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(events >= 800, `events from at least two Tetragon lives are counted (got ${events})`);
    assert.ok((await metric(port, 'argos_source_restarts_total')) >= 2);

    assert.ok(readFileSync(fakeLog, 'utf8').includes('exit '), 'the fake Tetragon exited by itself');

    run.child.kill('SIGTERM');
    const r = await run.done;
    assert.equal(r.code, 143, r.stderr);
    const pids = starts().map((l) => Number(l.split(' ')[1]));
    for (const pid of pids) assert.equal(alive(pid), false, `tetragon ${pid} is gone`);
    assert.match(r.stderr, /"msg":"stopping"/);
  } finally {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run: a Tetragon that ignores SIGTERM is killed, and the daemon still exits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-run-term-'));
  const fakeLog = join(dir, 'fake.log');
  const run = startCli(['run'], {
    env: {
      ARGOS_SOURCE: 'managed',
      ARGOS_TETRAGON_BIN: FAKE,
      ARGOS_TETRAGON_EXPORT_FILE: join(dir, 'tetragon.log'),
      ARGOS_DB_PATH: join(dir, 'argos.db'),
      ARGOS_HTTP_ADDRESS: '',
      FAKE_TETRAGON_EXIT_AFTER: 'never',
      FAKE_TETRAGON_IGNORE_TERM: '1',
      FAKE_TETRAGON_LOG: fakeLog,
    },
    limitMs: 90_000,
  });
  try {
    await waitFor(() => run.out().stderr.includes('"msg":"running"') || run.child.exitCode !== null, 'the daemon running', 60_000);
    assert.equal(run.child.exitCode, null, run.out().stderr);
    run.child.kill('SIGTERM');
    const r = await run.done;
    assert.equal(r.code, 143, r.stderr);
    const pid = Number(readFileSync(fakeLog, 'utf8').split('\n')[0].split(' ')[1]);
    assert.equal(alive(pid), false, 'the stubborn Tetragon was killed');
  } finally {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run: a missing Tetragon binary is one clear error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-run-missing-'));
  try {
    const r = await startCli(['run'], {
      env: { ARGOS_SOURCE: 'managed', ARGOS_TETRAGON_BIN: '/nonexistent/tetragon', ARGOS_TETRAGON_EXPORT_FILE: join(dir, 't.log'), ARGOS_DB_PATH: join(dir, 'a.db'), ARGOS_HTTP_ADDRESS: '' },
      limitMs: 60_000,
    }).done;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /argos: .*tetragon/i);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
