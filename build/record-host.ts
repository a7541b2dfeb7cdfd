// Records real programs on this machine with the bpftrace source, as Tetragon-format
// recordings with a labels file: the development and test data of per-program detection.
//
//   sudo node --import tsx build/record-host.ts [--out models/recordings/debian12-x64]
//        [--train 180] [--test 120] [--reps 4] [--node debian12-x64]
//
// Three recordings, each of the processes this script starts (the rest of the machine is
// left out in the kernel), each with a fresh instance of the service:
//   normal-train.jsonl.gz  the service under requests and routine jobs (build/recording/normal.sh, seed 1)
//   normal-test.jsonl.gz   the same workload later, another seed (fresh normal activity)
//   attacks.jsonl.gz       the workload (seed 3) in the background while attack behaviours run
//                          (build/recording/attacks/*.sh), each several times
// labels.json names the attack processes (by exec_id) with their type and instance; every
// other process is normal. Attacks target this machine's loopback only and clean up after
// themselves; the attacker's side (listener, payload server, exfiltration sink) runs in
// this script, which is not traced. For the web shell, the attacker's request (curl) is not
// recorded either: only what the service does with it.
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { createGzip, type Gzip } from 'node:zlib';
import { BpftraceSource, findExecutable } from '../src/sources/bpftrace.js';
import { Counters } from '../src/core/counters.js';
import { createLogger } from '../src/core/logger.js';
import { systemClock, systemTimers } from '../src/core/time.js';
import { delay } from '../src/core/backoff.js';
import { ATTACKS, SCRIPTS, attacker, buildImplant, service, start, stopChild, type AttackLabel } from './recording/harness.js';

/** labels.json: the attack processes of a recording; every other process is normal. */
export interface Labels {
  attacks: Record<string, AttackLabel>;
}

const log = createLogger(process.env.ARGOS_LOG_LEVEL ?? 'info');

interface ExecInfo {
  exec_id: string;
  pid: number;
  binary?: string;
  arguments?: string;
  flags?: string;
  parent_exec_id?: string;
}

/** Writes the traced lines of the current phase, labels attack processes, drops the harness's own. */
class Recording {
  private out: Gzip | undefined;
  private file: ReturnType<typeof createWriteStream> | undefined;
  private readonly dropped = new Set<string>();
  /** exec_id → label, for the current recording. */
  labels: Record<string, AttackLabel> = {};
  /** Launcher pids this script spawned → what their exec is. */
  readonly launchers = new Map<number, AttackLabel | 'harness'>();
  /** The web shell's injected commands carry this marker; the current instance. */
  webShell: AttackLabel | undefined;
  lines = 0;

  open(path: string): void {
    this.file = createWriteStream(path);
    this.out = createGzip({ level: 9 });
    this.out.pipe(this.file);
    this.labels = {};
    this.lines = 0;
  }

  async close(): Promise<void> {
    const out = this.out;
    const file = this.file;
    this.out = undefined;
    this.file = undefined;
    if (out === undefined || file === undefined) return;
    out.end();
    await once(file, 'close');
  }

  line(l: string): void {
    if (this.out === undefined) return;
    const id = execIdOf(l);
    if (l.startsWith('{"process_exec"')) this.exec(l);
    if (id !== undefined && this.dropped.has(id)) return;
    this.lines++;
    this.out.write(`${l}\n`);
  }

  private exec(l: string): void {
    const ev = JSON.parse(l) as { process_exec: { process: ExecInfo } };
    const p = ev.process_exec.process;
    const parent = p.parent_exec_id;
    // Read from /proc, not exec'd or forked in the traced tree: the recorder's own children
    // before they exec (node itself), not a recorded program.
    if (p.flags === 'procFS') {
      this.dropped.add(p.exec_id);
      return;
    }
    const launcher = this.launchers.get(p.pid);
    if (launcher !== undefined && p.flags === 'execve') {
      this.launchers.delete(p.pid);
      if (launcher === 'harness') this.dropped.add(p.exec_id);
      else this.labels[p.exec_id] = launcher;
      return;
    }
    if (parent !== undefined && this.dropped.has(parent)) {
      this.dropped.add(p.exec_id);
      return;
    }
    if (this.webShell !== undefined && (p.arguments ?? '').includes('#argos-attack:web_shell')) {
      this.labels[p.exec_id] = this.webShell;
      return;
    }
    if (parent !== undefined && this.labels[parent] !== undefined) this.labels[p.exec_id] = this.labels[parent];
  }
}

/** The exec_id of a Tetragon line (the first one in it: the process's). */
function execIdOf(l: string): string | undefined {
  const at = l.indexOf('"exec_id":"');
  if (at < 0) return undefined;
  const from = at + 11;
  return l.slice(from, l.indexOf('"', from));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'models/recordings/debian12-x64' },
      train: { type: 'string', default: '180' },
      test: { type: 'string', default: '120' },
      reps: { type: 'string', default: '4' },
      node: { type: 'string', default: 'debian12-x64' },
    },
  });
  if (process.getuid?.() !== 0) throw new Error('run as root: bpftrace loads BPF programs');
  if (findExecutable('bpftrace') === undefined) throw new Error('bpftrace is not installed (apt-get install bpftrace)');
  const out = resolve(values.out);
  mkdirSync(out, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'argos-record-'));
  const recording = new Recording();
  const counters = new Counters();
  const src = new BpftraceSource({
    bin: 'bpftrace',
    node: values.node,
    sink: { line: (l) => recording.line(l) },
    logger: log,
    counters,
    clock: systemClock,
    timers: systemTimers,
    readyTimeoutMs: 120_000,
    descendantsOf: process.pid,
  });
  const atk = await attacker(buildImplant(work));
  const labelsOut: Record<string, Labels> = {};
  try {
    await src.start();
    log.info({ out, work }, 'bpftrace attached; recording');
    for (const [name, seconds, seed] of [['normal-train', Number(values.train), '1'], ['normal-test', Number(values.test), '2']] as const) {
      recording.open(join(out, `${name}.jsonl.gz`));
      const svc = await service(work, {});
      const job = start('/bin/bash', [join(SCRIPTS, 'normal.sh')], { PORT: svc.port, WORK: work, SEED: seed, SECONDS_TOTAL: String(seconds) }, work);
      await once(job, 'exit');
      await stopChild(svc.child);
      await delay(1000, systemTimers);
      await recording.close();
      log.info({ recording: name, lines: recording.lines }, 'recorded');
    }

    recording.open(join(out, 'attacks.jsonl.gz'));
    const svc = await service(work, {});
    const background = start('/bin/bash', [join(SCRIPTS, 'normal.sh')], { PORT: svc.port, WORK: work, SEED: '3', SECONDS_TOTAL: '100000' }, work);
    await delay(3000, systemTimers);
    for (let rep = 0; rep < Number(values.reps); rep++) {
      for (const type of ATTACKS) {
        const label: AttackLabel = { type, instance: `${type}#${rep}` };
        recording.webShell = type === 'web_shell' ? label : undefined;
        const env = { ...atk.ports, PORT: svc.port, REP: String(rep), WORK: work };
        const child = start('/bin/bash', [join(SCRIPTS, 'attacks', `${type}.sh`)], env, work);
        if (child.pid !== undefined) recording.launchers.set(child.pid, type === 'web_shell' ? 'harness' : label);
        await Promise.race([once(child, 'exit'), delay(60_000, systemTimers)]);
        await stopChild(child);
        await delay(1500, systemTimers);
        log.info({ attack: label.instance }, 'attack done');
      }
    }
    recording.webShell = undefined;
    await stopChild(background);
    await stopChild(svc.child);
    await delay(1000, systemTimers);
    await recording.close();
    labelsOut['attacks'] = { attacks: recording.labels };
    log.info({ recording: 'attacks', lines: recording.lines, attackProcesses: Object.keys(recording.labels).length }, 'recorded');
  } finally {
    await src.stop();
    await atk.close();
    rmSync(work, { recursive: true, force: true });
  }
  writeFileSync(join(out, 'labels.json'), `${JSON.stringify(labelsOut.attacks, null, 1)}\n`);
  log.info({ files: readdirSync(out) }, 'done');
}

await main();
