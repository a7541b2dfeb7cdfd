// Runs one external program for a live source (tetragon, tetra, bpftrace) and keeps it
// running: restarts it with capped exponential backoff and jitter when it ends, stops it
// with SIGTERM and then SIGKILL after a deadline. Its stderr is logged and the last lines
// kept, to explain a failure.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../core/logger.js';
import type { Counters } from '../core/counters.js';
import { LineSplitter } from './lines.js';
import { spawnError, type ProgramHelp } from './errors.js';
import { Backoff, delay, type BackoffOptions } from '../core/backoff.js';
import { type Timers, systemClock, type Clock } from '../core/time.js';

export interface ChildOptions {
  /** Name in logs, e.g. "tetragon". */
  name: string;
  command: string;
  /** Arguments, computed for each start. */
  args: () => string[];
  env?: NodeJS.ProcessEnv;
  help: ProgramHelp;
  logger: Logger;
  counters: Counters;
  timers: Timers;
  backoff?: BackoffOptions;
  /** How long SIGTERM may take before SIGKILL (ms, default 5000). */
  stopTimeoutMs?: number;
  /** A run this long (ms) counts as healthy: the next restart starts the backoff afresh (default 60000). */
  stableMs?: number;
  /** Called at each start with that run's stdout chunks (unset: stdout is ignored). */
  stdout?: () => (chunk: Buffer) => void;
  /** Log level of the program's stderr lines (default 'debug'). */
  stderrLevel?: 'debug' | 'info' | 'warn';
  /** Called with each stderr line as well (e.g. to notice a readiness message). */
  onStderr?: (line: string) => void;
  /** The stable-run rule measures run time on its monotonic clock (default: the system's). */
  clock?: Clock;
}

const STDERR_KEEP = 20;

interface RunEnd {
  /** How long the program ran (ms). */
  ranMs: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class SupervisedChild {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();
  private readonly backoff: Backoff;
  private readonly recent: string[] = [];
  private loop: Promise<void> | undefined;
  private runs = 0;

  constructor(private readonly o: ChildOptions) {
    this.backoff = new Backoff(o.backoff);
  }

  /** The running program's pid, if any. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How many times the program has been started. */
  get starts(): number {
    return this.runs;
  }

  /** The program's last stderr lines, oldest first. */
  stderrTail(): string {
    return this.recent.join('\n');
  }

  /** Starts the program; rejects with a SourceError when it cannot be started at all. */
  async start(): Promise<void> {
    if (this.abort.signal.aborted) return;
    const run = await this.spawnOnce();
    this.loop = this.supervise(run.ended);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.terminate();
    await this.loop;
    // A start that was under way when stop() came may have left a fresh process.
    await this.terminate();
  }

  /** SIGTERM to the running program, SIGKILL if it is still there after the deadline. */
  private async terminate(): Promise<void> {
    const c = this.child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) {
      await this.exited;
      return;
    }
    const exited = this.exited;
    c.kill('SIGTERM');
    const ms = this.o.stopTimeoutMs ?? 5000;
    const cancel = new AbortController();
    const inTime = await Promise.race([exited.then(() => true), delay(ms, this.o.timers, cancel.signal).then(() => false)]);
    cancel.abort();
    if (!inTime) {
      this.o.logger.warn({ source: this.o.name, pid: c.pid, afterMs: ms }, 'program ignored SIGTERM; sending SIGKILL');
      c.kill('SIGKILL');
      await exited;
    }
  }

  /** Spawns once; resolves when the process runs, with a promise of its end (boxed: a promise resolved with a promise would wait for it). */
  private spawnOnce(): Promise<{ ended: Promise<RunEnd> }> {
    const clock = this.o.clock ?? systemClock;
    return new Promise((resolve, reject) => {
      const child = spawn(this.o.command, this.o.args(), {
        stdio: ['ignore', this.o.stdout ? 'pipe' : 'ignore', 'pipe'],
        env: this.o.env ?? process.env,
      });
      let began = 0;
      const ended = new Promise<RunEnd>((done) => {
        child.once('exit', (code, signal) => {
          // stdout/stderr may still hold data; 'close' follows once they are drained.
          child.once('close', () => done({ ranMs: clock.monotonic() - began, code, signal }));
        });
      });
      child.once('error', (err) => {
        if (began === 0) reject(spawnError(this.o.command, err, this.o.help));
        else this.o.logger.warn({ source: this.o.name, err: err.message }, 'program error');
      });
      child.once('spawn', () => {
        began = clock.monotonic();
        this.runs++;
        this.child = child;
        this.exited = ended.then(() => undefined);
        if (this.o.stdout && child.stdout) {
          const onChunk = this.o.stdout();
          child.stdout.on('data', onChunk);
        }
        this.captureStderr(child);
        this.o.logger.info({ source: this.o.name, pid: child.pid, run: this.runs }, 'program started');
        resolve({ ended });
      });
    });
  }

  private captureStderr(child: ChildProcess): void {
    const level = this.o.stderrLevel ?? 'debug';
    const splitter = new LineSplitter({
      line: (l) => {
        if (this.recent.length >= STDERR_KEEP) this.recent.shift();
        this.recent.push(l);
        this.o.logger[level]({ source: this.o.name, stderr: l }, 'program output');
        this.o.onStderr?.(l);
      },
    }, { maxLine: 16 * 1024 });
    child.stderr?.on('data', (b: Buffer) => splitter.push(b));
    child.stderr?.on('end', () => splitter.end());
  }

  private async supervise(first: Promise<RunEnd>): Promise<void> {
    let run: Promise<RunEnd> | undefined = first;
    while (!this.abort.signal.aborted) {
      if (run !== undefined) {
        const end = await run;
        run = undefined;
        if (this.abort.signal.aborted) break;
        this.o.counters.sourceRestarts++;
        if (end.ranMs >= (this.o.stableMs ?? 60_000)) this.backoff.reset();
        const wait = this.backoff.next();
        this.o.logger.warn(
          { source: this.o.name, code: end.code, signal: end.signal, ranMs: end.ranMs, restartInMs: wait, stderr: this.stderrTail() },
          'program ended; restarting it',
        );
        if (!(await delay(wait, this.o.timers, this.abort.signal))) break;
      }
      try {
        run = (await this.spawnOnce()).ended;
      } catch (e) {
        const wait = this.backoff.next();
        this.o.counters.sourceRestarts++;
        this.o.logger.error({ source: this.o.name, err: e instanceof Error ? e.message : String(e), retryInMs: wait }, 'cannot restart the program; retrying');
        if (!(await delay(wait, this.o.timers, this.abort.signal))) break;
      }
    }
  }
}
