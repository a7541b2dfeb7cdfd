// `argos run` with its database on a small file system that fills up while alerts come: the
// daemon keeps reading and scoring events, keeps the alerts it cannot store in memory, says so
// in its log, in /metrics and in /healthz (degraded, not failing), and stores them by itself
// once space returns; after a clean stop the database passes PRAGMA integrity_check and holds
// every alert raised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/fake-time.js';
import { freePort } from '../helpers/mosquitto.js';
import { fill, smallFileSystem } from '../helpers/small-fs.js';

/** A short process: exec, 20 syscalls, exit (one partial window, scored at exit). */
function processLines(i: number): string {
  const proc = `"process":{"exec_id":"disk-${i}","pid":${10_000 + i},"binary":"/bin/p${i}","arguments":"-x"}`;
  const lines = [`{"process_exec":{${proc}},"time":"2025-01-01T00:00:00Z"}`];
  for (let k = 0; k < 20; k++) {
    lines.push(`{"process_tracepoint":{${proc},"subsys":"raw_syscalls","event":"sys_enter","args":[{"syscall_id":{"id":${k % 5},"abi":"x64"}}]},"time":"2025-01-01T00:00:00Z"}`);
  }
  lines.push(`{"process_exit":{${proc}},"time":"2025-01-01T00:00:00Z"}`);
  return `${lines.join('\n')}\n`;
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

async function waitForMetric(port: number, name: string, ok: (v: number) => boolean, what: string): Promise<number> {
  let v = NaN;
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    v = await metric(port, name);
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what} (${name} = ${v})`);
}

void test('argos run on a full disk: keeps watching, buffers alerts, reports it, recovers by itself', async (t) => {
  const dir = smallFileSystem(t, '4m');
  if (dir === undefined) {
    t.skip('needs root to mount a small file system');
    return;
  }
  const port = await freePort();
  const db = join(dir, 'argos.db');
  const run = startCli(['run'], {
    env: { ARGOS_SOURCE: 'stdin', ARGOS_DB_PATH: db, ARGOS_HTTP_ADDRESS: `127.0.0.1:${port}`, ARGOS_THRESHOLD: '0', ARGOS_MIN_WINDOW: '8', ARGOS_LOG_LEVEL: 'info', ARGOS_NODE_NAME: 'full-node' },
    keepStdin: true,
    limitMs: 120_000,
  });
  t.after(() => {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
  });
  await waitFor(() => run.out().stderr.includes('"msg":"running"') || run.child.exitCode !== null, 'the daemon running', 60_000);
  assert.equal(run.child.exitCode, null, run.out().stderr);
  let n = 0;
  const feed = (count: number): void => {
    for (let i = 0; i < count; i++) run.child.stdin?.write(processLines(n++));
  };
  feed(5);
  await waitForMetric(port, 'argos_alerts_total', (v) => v >= 5, 'the first alerts');

  const filler = fill(dir);
  const eventsBefore = await metric(port, 'argos_events_total');
  feed(30);
  await waitForMetric(port, 'argos_alerts_buffered', (v) => v > 0, 'alerts waiting in memory');
  await waitForMetric(port, 'argos_alerts_total', (v) => v >= 35, 'all 35 alerts raised');
  assert.ok((await metric(port, 'argos_events_total')) >= eventsBefore + 30 * 22, 'still reading events');
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(health.status, 503);
  const report = (await health.json()) as { status: string; checks: Record<string, { ok: boolean; detail: string }> };
  assert.equal(report.status, 'degraded', 'degraded, not failing: the daemon still watches');
  assert.equal(report.checks['alert storage'].ok, false);
  assert.match(report.checks['alert storage'].detail, /refuses writes/);
  assert.equal((await fetch(`http://127.0.0.1:${port}/livez`)).status, 200, 'alive');
  assert.match(run.out().stderr, /cannot store alerts \(disk full or database not writable\)/);

  rmSync(filler);
  await waitForMetric(port, 'argos_alerts_buffered', (v) => v === 0, 'the buffer written out');
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  assert.match(run.out().stderr, /takes writes again/);
  const raised = await metric(port, 'argos_alerts_total');
  assert.equal(await metric(port, 'argos_alerts_lost_total'), 0);

  run.child.kill('SIGTERM');
  const r = await run.done;
  assert.equal(r.code, 143, r.stderr.slice(-2000));
  const sqlite = new Database(db, { readonly: true });
  try {
    assert.equal(sqlite.pragma('integrity_check', { simple: true }), 'ok');
    assert.equal((sqlite.prepare('SELECT count(*) AS n FROM alerts').get() as { n: number }).n, raised, 'every alert raised is stored');
  } finally {
    sqlite.close();
  }
});
