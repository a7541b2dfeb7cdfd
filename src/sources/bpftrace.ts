// The bpftrace source, for hosts without Tetragon: Debian's bpftrace attaches to
// raw_syscalls:sys_enter and the sched exec/exit tracepoints and prints one short line per
// event (program in bpftrace/program.ts), which bpftrace/events.ts turns into Tetragon's
// JSON event shape. bpftrace is restarted with backoff when it dies.
//
// Cost: every syscall on the host is one perf-buffer record, one printf in bpftrace and one
// line translated and parsed here. Measured on a 2-vCPU EPYC VM (600,000 syscalls from
// `dd bs=1`, compiled JS build): bpftrace 3.4 µs and the daemon 3.7 µs of CPU per syscall, i.e.
// about 7% of a core per 10,000 syscalls/s; bpftrace reports lost events on stderr when its
// buffer overflows. Tetragon filters and encodes in
// the kernel and is the better choice where it runs. bpftrace's own syscalls and the
// daemon's are left out in the kernel (they would otherwise feed back into the stream).
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type { EventSource, LineSink } from '../core/types.js';
import type { Logger } from '../core/logger.js';
import type { Counters } from '../core/counters.js';
import { SupervisedChild } from './child.js';
import { LineSplitter } from './lines.js';
import { SourceError, spawnError } from './errors.js';
import { tracingPrivilegeProblem } from './privileges.js';
import { ARGV_MAX, BPFTRACE_PROGRAM, READY_LINE } from './bpftrace/program.js';
import { BpftraceTranslator, type ProcInfo } from './bpftrace/events.js';
import type { Clock, Timers } from '../core/time.js';
import { delay, type BackoffOptions } from '../core/backoff.js';

export const BPFTRACE_HELP = {
  what: 'bpftrace',
  setting: 'ARGOS_BPFTRACE_BIN',
  install: 'install it (Debian/Ubuntu: apt-get install bpftrace)',
  alternatives: 'ARGOS_SOURCE=managed or export with Tetragon',
};

const TRACEFS = '/sys/kernel/tracing';

/** The path of an executable: `bin` itself if it has a slash, else the first match on PATH. */
export function findExecutable(bin: string, path: string = process.env.PATH ?? ''): string | undefined {
  const usable = (p: string): boolean => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (bin.includes('/')) return usable(bin) ? bin : undefined;
  for (const dir of path.split(delimiter)) {
    if (dir !== '' && usable(join(dir, bin))) return join(dir, bin);
  }
  return undefined;
}

/** Mounts tracefs when neither it nor debugfs's tracing directory is there. */
export async function ensureTracefs(log: Logger, root = TRACEFS): Promise<void> {
  if (existsSync(join(root, 'events')) || existsSync('/sys/kernel/debug/tracing/events')) return;
  try {
    await promisify(execFile)('mount', ['-t', 'tracefs', 'nodev', root]);
    log.info({ path: root }, 'tracefs was not mounted; mounted it');
  } catch (e) {
    log.warn({ path: root, err: e instanceof Error ? e.message : String(e) }, `tracefs is not mounted and mounting it failed; bpftrace may not find its tracepoints (mount -t tracefs nodev ${root})`);
  }
}

export interface BpftraceOptions {
  bin: string;
  node: string;
  sink: LineSink;
  logger: Logger;
  counters: Counters;
  clock: Clock;
  timers: Timers;
  readyTimeoutMs: number;
  backoff?: BackoffOptions;
  stopTimeoutMs?: number;
  /** pid left out of the trace besides bpftrace's own (default: this process). */
  ownPid?: number;
  /** Trace only the descendants of this process (default: every process). */
  descendantsOf?: number;
  privileges?: () => Promise<string | undefined>;
  proc?: (pid: number) => ProcInfo | undefined;
  env?: NodeJS.ProcessEnv;
}

export class BpftraceSource implements EventSource {
  readonly name = 'bpftrace';
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private readonly child: SupervisedChild;
  private readonly abort = new AbortController();
  private markReady: () => void = () => {};
  private ready = new Promise<void>((r) => (this.markReady = r));
  private translator: BpftraceTranslator | undefined;
  private bin = '';

  constructor(private readonly o: BpftraceOptions) {
    this.done = new Promise((r) => (this.resolveDone = r));
    this.child = new SupervisedChild({
      name: 'bpftrace',
      // Through sh, so that bpftrace (exec'd in its place) knows its own pid as $1.
      command: '/bin/sh',
      args: () => ['-c', 'exec "$0" -e "$1" "$$" "$2" "$3"', this.bin, BPFTRACE_PROGRAM, String(o.ownPid ?? process.pid), String(o.descendantsOf ?? 0)],
      env: {
        ...(o.env ?? process.env),
        BPFTRACE_MAP_KEYS_MAX: '65536',
        BPFTRACE_PERF_RB_PAGES: '256',
        BPFTRACE_STRLEN: String(ARGV_MAX),
      },
      help: BPFTRACE_HELP,
      logger: o.logger,
      counters: o.counters,
      timers: o.timers,
      backoff: o.backoff,
      stopTimeoutMs: o.stopTimeoutMs,
      stderrLevel: 'warn',
      stdout: () => {
        const t = this.translator;
        if (t === undefined) return () => {};
        const splitter = new LineSplitter(t, { maxLine: 64 * 1024 });
        return (chunk) => splitter.push(chunk);
      },
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async start(): Promise<void> {
    const found = findExecutable(this.o.bin, (this.o.env ?? process.env).PATH);
    if (found === undefined) throw spawnError(this.o.bin, Object.assign(new Error('not found'), { code: 'ENOENT' }), BPFTRACE_HELP);
    this.bin = found;
    const problem = await (this.o.privileges ?? (() => tracingPrivilegeProblem('bpftrace')))();
    if (problem !== undefined) throw new SourceError('permission', problem);
    await ensureTracefs(this.o.logger);
    const hr = process.hrtime.bigint();
    this.translator = new BpftraceTranslator({
      node: this.o.node,
      sink: this.o.sink,
      clock: this.o.clock,
      bootWallNs: BigInt(this.o.clock.now()) * 1_000_000n - hr,
      proc: this.o.proc,
      other: (l) => {
        if (l === READY_LINE) {
          this.o.logger.info({ source: this.name, pid: this.child.pid }, 'bpftrace is attached');
          this.markReady();
        } else if (l !== '') {
          this.o.logger.debug({ source: this.name, line: l }, 'bpftrace output');
        }
      },
    });
    if (this.abort.signal.aborted) return;
    await this.child.start();
    const cancel = new AbortController();
    const inTime = await Promise.race([this.ready.then(() => true), delay(this.o.readyTimeoutMs, this.o.timers, cancel.signal).then(() => false)]);
    cancel.abort();
    if (this.abort.signal.aborted || inTime) return;
    const stderr = this.child.stderrTail();
    await this.stop();
    throw new SourceError('not-ready', `bpftrace did not attach its probes within ${this.o.readyTimeoutMs} ms (a kernel with BTF and tracefs is needed)${stderr ? `; its last output: ${stderr}` : ''}`);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.markReady();
    await this.child.stop();
    this.resolveDone();
  }
}
