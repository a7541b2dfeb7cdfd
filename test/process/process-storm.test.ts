// One million short-lived processes through `argos run` (standard input, default model and
// settings): each an exec, a few syscalls and an exit; one in twenty runs long enough for a
// window to be scored; one in ten never reports its exit (a lost event), so the tracker's
// bound (ARGOS_MAX_PROCESSES, 20,000) evicts the least recently seen and counts them.
// Resident memory (VmRSS of the daemon, read from /proc) is sampled every 100,000 processes
// once the daemon has caught up: it must plateau, not grow with the processes seen.
// ARGOS_STORM_PROCESSES sets the count (default 1,000,000).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli } from '../helpers/cli.js';
import { freePort } from '../helpers/mosquitto.js';

const TOTAL = Number(process.env.ARGOS_STORM_PROCESSES ?? 1_000_000);
const STEP = TOTAL / 10;
const MAX_PROCESSES = 20_000;

function lines(i: number): string {
  const proc = `"process":{"exec_id":"storm-${i}","pid":${i % 4_000_000},"binary":"/usr/bin/job${i % 500}","arguments":"--task ${i} --verbose","flags":"execve clone"}`;
  const tp = (id: number): string => `{"process_tracepoint":{${proc},"subsys":"raw_syscalls","event":"sys_enter","args":[{"syscall_id":{"id":${id},"abi":"x64"}}]},"time":"2025-01-01T00:00:00Z"}`;
  const out = [`{"process_exec":{${proc}},"time":"2025-01-01T00:00:00Z"}`];
  const calls = i % 20 === 0 ? 24 : 3;
  for (let k = 0; k < calls; k++) out.push(tp([0, 1, 3, 9, 257][k % 5]));
  if (i % 10 !== 5) out.push(`{"process_exit":{${proc}},"time":"2025-01-01T00:00:00Z"}`);
  return `${out.join('\n')}\n`;
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

void test(`${TOTAL.toLocaleString('en')} short-lived processes: resident memory plateaus, evictions are counted`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-storm-'));
  const port = await freePort();
  const run = startCli(['run'], {
    env: { ARGOS_LEARNING: process.env.ARGOS_LEARNING ?? 'auto', ARGOS_SOURCE: 'stdin', ARGOS_DB_PATH: join(dir, 'argos.db'), ARGOS_HTTP_ADDRESS: `127.0.0.1:${port}`, ARGOS_LOG_LEVEL: 'error', ARGOS_MAX_PROCESSES: String(MAX_PROCESSES) },
    keepStdin: true,
    limitMs: 600_000,
  });
  t.after(() => {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const pid = run.child.pid as number;
  // /metrics answers once the daemon runs.
  for (let tries = 0; ; tries++) {
    try {
      await metric(port, 'argos_events_total');
      break;
    } catch {
      if (tries > 600 || run.child.exitCode !== null) throw new Error(`the daemon did not come up: ${run.out().stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const stdin = run.child.stdin!;
  const samples: { processes: number; rssMb: number; tracked: number; evicted: number }[] = [];
  let i = 0;
  while (i < TOTAL) {
    const end = i + STEP;
    while (i < end) {
      let chunk = '';
      for (let k = 0; k < 2000 && i < end; k++) chunk += lines(i++);
      if (!stdin.write(chunk)) await new Promise((r) => stdin.once('drain', r));
    }
    // Caught up: every process of this step seen and its windows scored.
    let seen = 0;
    for (let w = 0; w < 3000 && (seen = await metric(port, 'argos_processes_seen_total')) < i; w++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen, i, 'the daemon read every process');
    samples.push({ processes: i, rssMb: Math.round(rssMb(pid)), tracked: await metric(port, 'argos_tracked_processes'), evicted: await metric(port, 'argos_processes_evicted_total') });
  }
  stdin.end();
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr.slice(-2000));

  const last = samples[samples.length - 1];
  const neverExited = Math.floor((TOTAL + 4) / 10);
  assert.equal(last.evicted + last.tracked, neverExited, 'every process that never exited is still tracked or was evicted, and counted');
  assert.ok(last.evicted >= neverExited - MAX_PROCESSES);
  assert.ok(samples.every((s) => s.tracked <= MAX_PROCESSES), 'the tracker stays within its bound');
  // Plateau: from 30 % of the storm on, no sample more than 15 % (or 20 MB) above the 30 % one.
  const ref = samples[2].rssMb;
  const peak = Math.max(...samples.slice(2).map((s) => s.rssMb));
  t.diagnostic(`process storm: ${JSON.stringify(samples)}`);
  assert.ok(peak <= Math.max(ref * 1.15, ref + 20), `resident memory grows: ${samples.map((s) => s.rssMb).join(' → ')} MB`);
});
