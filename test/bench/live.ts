// Benchmark: the live scenario, with real kernel events from real programs. `argos run` with
// the bpftrace source starts on a device with no model of its own, learns a scripted normal
// workload (the service and routine jobs of build/recording/normal.sh), switches to detecting
// by itself, then watches fresh normal activity of the same workload (another seed) and the
// attack behaviours of build/recording/attacks/ (on this machine's loopback; they clean up).
//
//   sudo node --import tsx test/bench/live.ts [--json] [--learn 3m] [--normal 600] [--reps 1] [--keep]
//
// The daemon watches only the processes a dedicated shell (the anchor) starts: the rest of the
// machine is left out in the kernel. During each attack the normal job loop is paused (its
// last jobs finish first), so an alert raised between the attack's start and 15 s after its
// end is the attack's; the fresh-normal phase measures how often an alert comes without one.
// The web shell's request is sent from outside that tree (it is the attacker's side); what it
// makes the service run is watched. A flagged window or new-program start folded into an alert
// already open (throttling per program) is counted apart (`folded`, `attacks_flagged`).
//
// Reported: the time from the workload's start to detecting; over the fresh-normal phase,
// flagged windows / scored windows (`live_window_fpr`) and alerts per hour
// (`live_alerts_per_hour_normal`, anomaly and new-program alerts); per attack behaviour,
// whether it was alerted and the time from its start to its first alert.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { once } from 'node:events';
import { findExecutable } from '../../src/sources/bpftrace.js';
import { parseDuration } from '../../src/config/units.js';
import type { Alert } from '../../src/core/alert.js';
import type { StatePayload } from '../../src/core/mqtt.js';
import { runInProcess } from '../helpers/cli.js';
import { freePort } from '../helpers/mosquitto.js';
import { ATTACKS, SCRIPTS, attacker, buildImplant, deviceEnv, stopChild, type AttackType } from '../../build/recording/harness.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Behaviours whose script is the attacker's client (a request to the device's service), not code run on the device. */
const REMOTE: ReadonlySet<AttackType> = new Set(['web_shell']);

export interface AttackResult {
  type: AttackType;
  rep: number;
  detected: boolean;
  /** From the attack's start to its first alert (s). */
  latency_s: number | null;
  alerts: { kind: string; program: string; score?: number }[];
  /** Flagged windows and new-program starts folded into an alert already open (counted in it, published when its fold ends). */
  folded: number;
  /** The alerts already open whose count grew during the attack. */
  folded_into: { kind: string; program: string; score?: number }[];
  /** An alert of its own, or only repeats folded into an open alert. */
  flagged: boolean;
}

export interface LiveResult {
  learn_seconds: number;
  learn_period: string;
  model: { name: string; version: number; programs: number };
  normal_seconds: number;
  normal_windows: number;
  normal_flagged_windows: number;
  live_window_fpr: number;
  normal_alerts: { kind: string; program: string; score?: number }[];
  live_alerts_per_hour_normal: number;
  live_attacks_detected: string;
  /** Attacks that raised an alert of their own or were folded into an alert already open. */
  attacks_flagged: string;
  attacks: AttackResult[];
  latency_max_s: number | null;
  latency_median_s: number | null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A shell that runs the commands written to it; every process the scenario runs descends from it. */
class Anchor {
  readonly child: ChildProcess;
  private out = '';
  constructor(work: string, env: Record<string, string>) {
    this.child = spawn('/bin/bash', ['-s'], { cwd: work, env: { ...deviceEnv(work), ...env }, stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    this.child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.out += d));
  }

  run(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Waits (bounded) for a line the commands print. */
  async line(re: RegExp, limitMs: number): Promise<RegExpExecArray> {
    const end = Date.now() + limitMs;
    for (;;) {
      const m = re.exec(this.out);
      if (m !== null) {
        this.out = this.out.slice(m.index + m[0].length);
        return m;
      }
      if (Date.now() > end) throw new Error(`the scenario shell did not print ${re} within ${limitMs} ms`);
      await sleep(50);
    }
  }

  /** Ends the shell and everything it started. */
  async stop(): Promise<void> {
    const pgid = this.child.pid;
    if (pgid === undefined) return;
    for (const signal of ['SIGCONT', 'SIGTERM'] as const) {
      try {
        process.kill(-pgid, signal);
      } catch {
        // already gone
      }
    }
    await Promise.race([once(this.child, 'exit'), sleep(5000)]);
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

export async function runLive(o: { learn: string; normalSeconds: number; reps: number; log: (s: string) => void; keep?: boolean }): Promise<LiveResult> {
  if (process.getuid?.() !== 0) throw new Error('run as root: bpftrace loads BPF programs');
  if (findExecutable('bpftrace') === undefined) throw new Error('bpftrace is not installed (apt-get install bpftrace)');
  const learnMs = parseDuration(o.learn);
  if (learnMs === undefined) throw new Error(`--learn "${o.learn}" is not a duration`);
  const work = mkdtempSync(join(tmpdir(), 'argos-live-'));
  for (const d of ['home', 'service', 'state']) mkdirSync(join(work, d));
  const db = join(work, 'state', 'argos.db');
  const atk = await attacker(buildImplant(work));
  const port = await freePort();
  const svcPort = await freePort();
  const env = { ARGOS_DB_PATH: db, ARGOS_LEARN_PERIOD: o.learn, ARGOS_NODE_NAME: 'live', ARGOS_LOG_LEVEL: 'warn' };
  const anchor = new Anchor(work, { PORT: String(svcPort), WORK: work, ...atk.ports });
  let daemon: ChildProcess | undefined;
  const alertsSince = async (ms: number): Promise<Alert[]> => {
    const r = await runInProcess(['alerts', '--json', '--limit', '100000', '--since', new Date(ms).toISOString()], { env });
    return r.stdout
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Alert);
  };
  const brief = (a: Alert): { kind: string; program: string; score?: number } => ({ kind: a.kind, program: a.program, ...(a.kind === 'anomaly' ? { score: Math.round(a.score * 1000) / 1000 } : {}) });
  try {
    const log = createWriteStream(join(work, 'daemon.log'));
    daemon = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'run'], {
      cwd: ROOT,
      env: { ...process.env, ...env, ORT_DISABLE_TELEMETRY: '1', ARGOS_SOURCE: 'bpftrace', ARGOS_BPFTRACE_ROOT_PID: String(anchor.child.pid), ARGOS_HTTP_ADDRESS: `127.0.0.1:${port}`, ARGOS_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let attached = false;
    let daemonLog = '';
    daemon.stderr?.on('data', (d: Buffer) => {
      const text = d.toString();
      if (text.includes('bpftrace is attached')) attached = true;
      daemonLog = (daemonLog + text).slice(-20_000);
      log.write(d);
    });
    for (const end = Date.now() + 120_000; !attached; await sleep(100)) {
      if (Date.now() > end || daemon.exitCode !== null) throw new Error(`the daemon did not attach bpftrace: ${daemonLog.slice(-1500)}`);
    }
    // The device's work starts: the service, then the job loop (seed 1).
    const started = Date.now();
    anchor.run(`python3 ${join(SCRIPTS, 'service.py')} ${svcPort} ${join(work, 'service')} >/dev/null 2>&1 &`);
    anchor.run(`until curl -sf http://127.0.0.1:${svcPort}/status >/dev/null; do sleep 0.1; done; echo service-up`);
    await anchor.line(/service-up\n/, 30_000);
    anchor.run(`SEED=1 SECONDS_TOTAL=100000 bash ${join(SCRIPTS, 'normal.sh')} >/dev/null 2>&1 & echo "normal $!"`);
    const normalPid = Number((await anchor.line(/normal (\d+)\n/, 10_000))[1]);
    o.log(`live: learning (period ${o.learn}) ...`);
    let state: StatePayload | undefined;
    for (const end = Date.now() + learnMs * 2 + 600_000; ; await sleep(5000)) {
      const r = await runInProcess(['status', '--json'], { env });
      if (r.code === 0) state = JSON.parse(r.stdout) as StatePayload;
      if (state?.state === 'detecting') break;
      if (Date.now() > end || daemon.exitCode !== null) throw new Error(`no device model after ${Math.round((Date.now() - started) / 1000)} s: ${JSON.stringify(state)}`);
    }
    const learnSeconds = Math.round((Date.now() - started) / 100) / 10;
    o.log(`live: detecting with v${state.model.version} after ${learnSeconds} s; ${o.normalSeconds} s of fresh normal activity ...`);

    // Fresh normal activity: the job loop again with another seed.
    process.kill(normalPid, 'SIGTERM');
    anchor.run(`SEED=2 SECONDS_TOTAL=100000 bash ${join(SCRIPTS, 'normal.sh')} >/dev/null 2>&1 & echo "normal $!"`);
    const freshPid = Number((await anchor.line(/normal (\d+)\n/, 10_000))[1]);
    const t0 = Date.now();
    const [classified0, anomalies0] = [await metric(port, 'argos_windows_classified_total'), await metric(port, 'argos_anomalies_total')];
    await sleep(o.normalSeconds * 1000);
    const [classified1, anomalies1] = [await metric(port, 'argos_windows_classified_total'), await metric(port, 'argos_anomalies_total')];
    const normalSeconds = (Date.now() - t0) / 1000;
    const normalAlerts = await alertsSince(t0);

    // The attacks, each with the job loop paused.
    o.log('live: attacks ...');
    const attacks: AttackResult[] = [];
    for (let rep = 0; rep < o.reps; rep++) {
      for (const type of ATTACKS) {
        process.kill(freshPid, 'SIGSTOP');
        await sleep(3000);
        const folded0 = await metric(port, 'argos_alerts_throttled_total');
        const countsBefore = new Map((await alertsSince(0)).map((a) => [a.id, a.count]));
        const start = Date.now();
        const script = join(SCRIPTS, 'attacks', `${type}.sh`);
        if (REMOTE.has(type)) {
          // The attacker's side runs off the device: outside the watched shell's tree.
          const client = spawn('bash', [script], { cwd: work, env: { ...deviceEnv(work), PORT: String(svcPort), ...atk.ports, REP: String(rep) }, stdio: 'ignore' });
          await once(client, 'exit');
        } else {
          anchor.run(`(REP=${rep} bash ${script} >/dev/null 2>&1; echo "done ${type}") &`);
          await anchor.line(new RegExp(`done ${type}\\n`), 120_000);
        }
        const endedAt = Date.now();
        let alerts: Alert[] = [];
        let folded = 0;
        while (Date.now() < endedAt + 15_000) {
          alerts = await alertsSince(start);
          folded = (await metric(port, 'argos_alerts_throttled_total')) - folded0;
          if ((alerts.length > 0 || folded > 0) && Date.now() > endedAt + 2000) break;
          await sleep(250);
        }
        const first = alerts.map((a) => Date.parse(a.time)).sort((a, b) => a - b)[0];
        const detected = first !== undefined;
        // Folded counts are written within a second (the alerter's sweep).
        if (folded > 0) await sleep(1500);
        const grown = (await alertsSince(0)).filter((a) => a.count > (countsBefore.get(a.id) ?? Infinity));
        attacks.push({ type, rep, detected, latency_s: first === undefined ? null : Math.round((first - start) / 10) / 100, alerts: alerts.map(brief), folded, folded_into: grown.map(brief), flagged: detected || folded > 0 });
        o.log(`live: ${type}#${rep}: ${detected ? `alerted after ${(first - start) / 1000} s` : folded > 0 ? `no alert of its own; ${folded} repeats folded into open alerts` : 'not alerted'}`);
        process.kill(freshPid, 'SIGCONT');
        await sleep(3000);
      }
    }
    const latencies = attacks.flatMap((a) => (a.latency_s === null ? [] : [a.latency_s])).sort((a, b) => a - b);
    const windows = classified1 - classified0;
    const flagged = anomalies1 - anomalies0;
    return {
      learn_seconds: learnSeconds,
      learn_period: o.learn,
      model: { name: state.model.name, version: state.model.version, programs: state.programs },
      normal_seconds: Math.round(normalSeconds),
      normal_windows: windows,
      normal_flagged_windows: flagged,
      live_window_fpr: windows > 0 ? flagged / windows : 0,
      normal_alerts: normalAlerts.map(brief),
      live_alerts_per_hour_normal: Math.round((normalAlerts.length * 3600 * 10) / normalSeconds) / 10,
      live_attacks_detected: `${attacks.filter((a) => a.detected).length} of ${attacks.length}`,
      attacks_flagged: `${attacks.filter((a) => a.flagged).length} of ${attacks.length}`,
      attacks,
      latency_max_s: latencies.length > 0 ? (latencies[latencies.length - 1] ?? null) : null,
      latency_median_s: latencies.length > 0 ? (latencies[latencies.length >> 1] ?? null) : null,
    };
  } finally {
    if (daemon !== undefined) await stopChild(daemon);
    await anchor.stop();
    await atk.close();
    if (o.keep) o.log(`live: kept ${work} (the daemon's database, models and log)`);
    else rmSync(work, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false }, learn: { type: 'string', default: '3m' }, normal: { type: 'string', default: '600' }, reps: { type: 'string', default: '1' }, keep: { type: 'boolean', default: false } } });
  const r = await runLive({ learn: values.learn, normalSeconds: Number(values.normal), reps: Number(values.reps), keep: values.keep, log: (s) => process.stderr.write(`${s}\n`) });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  process.stdout.write(`learnt in ${r.learn_seconds} s (period ${r.learn_period}): model v${r.model.version}, ${r.model.programs} programs\n`);
  process.stdout.write(`fresh normal, ${r.normal_seconds} s: ${r.normal_flagged_windows} of ${r.normal_windows} windows flagged (${(r.live_window_fpr * 100).toFixed(2)}%), ${r.normal_alerts.length} alerts (${r.live_alerts_per_hour_normal} per hour)\n`);
  for (const a of r.normal_alerts) process.stdout.write(`  ${a.kind} ${a.program}${a.score === undefined ? '' : ` ${a.score}`}\n`);
  process.stdout.write(`attacks alerted: ${r.live_attacks_detected} (${r.attacks_flagged} flagged, folds into open alerts included); from start to first alert: median ${r.latency_median_s} s, max ${r.latency_max_s} s\n`);
  for (const a of r.attacks) {
    const into = a.folded_into.map((x) => `${x.kind} ${x.program}`).join(', ');
    const what = [...a.alerts.map((x) => `${x.kind} ${x.program}`), ...(a.folded > 0 ? [`${a.folded} folded into open alerts${into === '' ? '' : ` (${into})`}`] : [])].join(', ');
    process.stdout.write(`  ${a.type}#${a.rep}: ${a.detected ? `${a.latency_s} s, ` : a.flagged ? 'no alert of its own: ' : 'not alerted'}${what}\n`);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`live bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
