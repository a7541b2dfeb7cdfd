// Records this device's normal behaviour for on-device training: every process's syscalls (as
// names, so a retrained model may choose its own vocabulary) go into the database's baseline
// when the process exits, in batches, and a long-lived process's in pieces of `segmentCalls`
// as it runs. The calls of a process that alerted are held back instead (quarantine) until an
// operator allows them: the baseline never learns what was flagged. Memory is bounded: at most
// `maxBufferedCalls` calls wait in memory, and the rolling baseline keeps `maxBaselineCalls`.
import type { Counters } from '../core/counters.js';
import type { Logger } from '../core/logger.js';
import { inheritProgram, programKey } from '../core/program.js';
import type { BaselineStore, BaselineTrace, QuarantinedTrace } from '../core/storage.js';
import type { Clock, Timers } from '../core/time.js';
import type { EventHandler, EventLine, ProcessInfo } from '../core/types.js';

export interface BaselineRecorderOptions {
  store: BaselineStore;
  /** Name of each token the events come in (the universal vocabulary). */
  names: readonly string[];
  counters: Counters;
  log: Logger;
  clock: Clock;
  /** A long-lived process's calls are written in pieces of this many (default 8192). */
  segmentCalls?: number;
  /** Calls waiting in memory for all live processes at most (default 2,000,000); beyond it the largest is written early. */
  maxBufferedCalls?: number;
  /** Traces written per batch at most (default 4096): each batch is one transaction, synced to disk. */
  batch?: number;
  /** Calls written per batch at most (default 65,536). */
  batchCalls?: number;
  /** A batch that is not full is written after this long (default 2 s; needs `timers`). */
  flushAfterMs?: number;
  timers?: Timers;
  /** Most processes followed at once; beyond it the oldest is written early (default 20,000). */
  maxProcesses?: number;
  /** The rolling baseline's size in calls (unbounded when absent). */
  maxBaselineCalls?: number;
  /** Count processes (when the recorder is the only handler, as in `argos learn`). */
  countProcesses?: boolean;
  /** Told of every process's program as it starts (the learner follows which programs are active). */
  onProgram?: (program: string) => void;
}

interface Live {
  info: ProcessInfo | undefined;
  program: string | undefined;
  startedAt: number;
  calls: Uint16Array;
  n: number;
  /** The alert that flagged the process (null: flagged by an alert without id); absent while it is clean. */
  flag?: string | null;
}

export class BaselineRecorder implements EventHandler {
  private readonly live = new Map<string, Live>();
  /** The live key of each pid (to end a process's previous image when it execs). */
  private readonly byPid = new Map<number, string>();
  private baseline: BaselineTrace[] = [];
  private held: QuarantinedTrace[] = [];
  private readonly segmentCalls: number;
  private readonly maxBuffered: number;
  private readonly batch: number;
  private readonly batchCalls: number;
  private batchedCalls = 0;
  private flushTimer: unknown;
  private readonly maxProcesses: number;
  private buffered = 0;
  /** Traces (and pieces) written to the baseline so far. */
  written = 0;
  /** Traces (and pieces) held back so far. */
  quarantined = 0;

  constructor(private readonly o: BaselineRecorderOptions) {
    this.segmentCalls = Math.max(16, o.segmentCalls ?? 8192);
    this.maxBuffered = o.maxBufferedCalls ?? 2_000_000;
    this.batch = o.batch ?? 4096;
    this.batchCalls = o.batchCalls ?? 65_536;
    this.maxProcesses = o.maxProcesses ?? 20_000;
  }

  syscall(key: string, token: number, line: EventLine): void {
    let p = this.live.get(key);
    if (p === undefined) {
      const info = line.process();
      p = this.add(key, info === undefined ? undefined : inheritProgram(info, (id) => this.live.get(id)?.info));
    }
    if (p.n === p.calls.length) {
      if (p.n >= this.segmentCalls) this.write(key, p);
      else {
        const bigger = new Uint16Array(Math.min(this.segmentCalls, p.calls.length * 4));
        bigger.set(p.calls);
        p.calls = bigger;
      }
    }
    p.calls[p.n++] = token;
    if (++this.buffered > this.maxBuffered) this.writeLargest();
  }

  exec(forked: ProcessInfo): void {
    // A fork without exec runs its parent's program (as the tracker sees it).
    const process = inheritProgram(forked, (id) => this.live.get(id)?.info);
    // An exec ends the image the process ran before (a fork child that execs has no exit of its own).
    const before = process.pid > 0 ? this.byPid.get(process.pid) : undefined;
    if (before !== undefined && before !== process.execId) this.exit(before);
    const p = this.live.get(process.execId);
    if (p === undefined) this.add(process.execId, process);
    else {
      p.info = process;
      if (process.pid > 0) this.byPid.set(process.pid, process.execId);
      p.program = programKey(process);
      this.o.onProgram?.(p.program);
    }
  }

  exit(key: string): void {
    const p = this.live.get(key);
    if (p === undefined) return;
    this.forget(key, p);
    this.write(key, p);
  }

  /** The process alerted: what it does from now on (and what waits in memory) is held back, not learned. */
  flag(execId: string, alertId: string | undefined): void {
    const p = this.live.get(execId);
    if (p !== undefined && p.flag === undefined) p.flag = alertId ?? null;
  }

  /** Writes every live process's calls so far and whatever is batched. */
  flush(): void {
    for (const [key, p] of [...this.live]) {
      this.forget(key, p);
      this.write(key, p);
    }
    this.writeBatches();
  }

  /** Processes followed now. */
  get size(): number {
    return this.live.size;
  }

  private add(key: string, info: ProcessInfo | undefined): Live {
    if (this.live.size >= this.maxProcesses) {
      const oldest = this.live.keys().next().value as string;
      const p = this.live.get(oldest);
      if (p !== undefined) {
        this.forget(oldest, p);
        this.write(oldest, p);
      }
    }
    const program = info === undefined || info.binary === '' ? undefined : programKey(info);
    const p: Live = { info, program, startedAt: this.o.clock.now(), calls: new Uint16Array(Math.min(64, this.segmentCalls)), n: 0 };
    this.live.set(key, p);
    if (info !== undefined && info.pid > 0) this.byPid.set(info.pid, key);
    if (this.o.countProcesses) this.o.counters.processes++;
    if (program !== undefined) this.o.onProgram?.(program);
    return p;
  }

  private forget(key: string, p: Live): void {
    this.live.delete(key);
    if (p.info !== undefined && this.byPid.get(p.info.pid) === key) this.byPid.delete(p.info.pid);
  }

  /** Queues what `p` holds as one trace (baseline, or quarantine when flagged) and empties its buffer. */
  private write(key: string, p: Live): void {
    this.buffered -= p.n;
    if (p.n === 0) return;
    const n = p.n;
    const syscalls = Array.from(p.calls.subarray(0, n), (t) => this.o.names[t] ?? 'unknown').join(' ');
    const binary = p.info?.binary || 'unknown';
    const trace: BaselineTrace = { execId: key, binary, program: p.program ?? binary, startedAt: p.startedAt, syscalls };
    p.n = 0;
    p.startedAt = this.o.clock.now();
    if (p.flag === undefined) this.baseline.push(trace);
    else this.held.push(p.flag === null ? trace : { ...trace, alertId: p.flag });
    this.batchedCalls += n;
    if (this.baseline.length + this.held.length >= this.batch || this.batchedCalls >= this.batchCalls) this.writeBatches();
    else if (this.flushTimer === undefined && this.o.timers !== undefined) {
      this.flushTimer = this.o.timers.setTimeout(
        () => {
          this.flushTimer = undefined;
          this.writeBatches();
        },
        this.o.flushAfterMs ?? 2000,
        { unref: true },
      );
    }
  }

  private writeLargest(): void {
    let largest: [string, Live] | undefined;
    for (const e of this.live) if (largest === undefined || e[1].n > largest[1].n) largest = e;
    if (largest !== undefined) this.write(largest[0], largest[1]);
  }

  private writeBatches(): void {
    const baseline = this.baseline;
    const held = this.held;
    this.baseline = [];
    this.held = [];
    this.batchedCalls = 0;
    if (this.flushTimer !== undefined) this.o.timers?.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    try {
      if (baseline.length > 0) this.o.store.appendBaseline(baseline, this.o.maxBaselineCalls);
      if (held.length > 0) this.o.store.quarantine(held, this.o.maxBaselineCalls);
      this.written += baseline.length;
      this.quarantined += held.length;
    } catch (e) {
      this.o.log.error({ err: e, traces: baseline.length + held.length }, 'cannot write the baseline; these traces are lost');
    }
  }
}
