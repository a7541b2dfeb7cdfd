// Records this device's normal behaviour for on-device training: every process's syscalls (as
// names, so a retrained model may choose its own vocabulary) go into the database's baseline
// when the process exits, and a long-lived process's in pieces of `segmentCalls` as it runs.
//
// What alerted is held back instead (quarantine) until an operator allows it, so the baseline
// never learns it:
// - an anomalous window: the calls of that window (its process goes on being learned);
// - a process whose program is new: all of it.
// Verdicts come after the calls they judge (the classifier runs behind the events), so a piece
// is not written at once: it *settles* for `settleMs` first, and a verdict that arrives in the
// meantime still holds it back. Settled pieces are written in batches (one transaction each).
// Memory is bounded: at most `maxBufferedCalls` calls wait in memory (live and settling),
// beyond that the largest live process or the oldest settling piece is written early, and
// the rolling baseline keeps `maxBaselineCalls`.
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
  /** Settling and batching run on these; without them pieces are written as soon as a batch is full. */
  timers?: Timers;
  /** How long a piece waits for a verdict that holds it back before it is written (default 2 s). */
  settleMs?: number;
  /** A long-lived process's calls are written in pieces of this many (default 8192), */
  segmentCalls?: number;
  /** or once its oldest unwritten call is this old (default 5 min), so a quiet service is learnt too. */
  maxPieceAgeMs?: number;
  /** Calls waiting in memory at most (default 2,000,000). */
  maxBufferedCalls?: number;
  /** Pieces written per transaction at most (default 4096), or this many calls (default 65,536). */
  batch?: number;
  batchCalls?: number;
  /** Most processes followed at once; beyond it the oldest is written early (default 20,000). */
  maxProcesses?: number;
  /** The rolling baseline's size in calls (unbounded when absent). */
  maxBaselineCalls?: number;
  /** Count processes (when the recorder is the only handler, as in `argos learn`). */
  countProcesses?: boolean;
  /** Told of every process's program as it starts (the learner follows which programs are active). */
  onProgram?: (program: string) => void;
}

/** Calls [end − length, end) of a process: the window an anomaly verdict judged. */
export interface FlaggedCalls {
  end: number;
  length: number;
}

interface Live {
  info: ProcessInfo | undefined;
  program: string | undefined;
  startedAt: number;
  calls: Uint16Array;
  /** Calls in `calls` (not yet written). */
  n: number;
  /** Calls of the process so far; `calls` holds [total − n, total). */
  total: number;
  /** Monotonic time its current piece began. */
  since: number;
  /** The whole process is held back (a new program): its alert, or null for one without id. */
  flag?: string | null;
}

/** A trace or a piece of one, waiting to be written. */
interface Piece {
  trace: BaselineTrace;
  /** Its calls in the process: [from, to). */
  from: number;
  to: number;
  /** Monotonic time it was cut. */
  at: number;
  /** Held back by this alert (null: an alert without id). */
  held?: string | null;
}

export class BaselineRecorder implements EventHandler {
  private readonly live = new Map<string, Live>();
  /** The live key of each pid (to end a process's previous image when it execs). */
  private readonly byPid = new Map<number, string>();
  /** Pieces in the order they were cut, and by process. */
  private settling: Piece[] = [];
  private readonly settlingOf = new Map<string, Piece[]>();
  private readonly segmentCalls: number;
  private readonly maxBuffered: number;
  private readonly maxProcesses: number;
  private readonly settleMs: number;
  private readonly maxPieceAge: number;
  private buffered = 0;
  private timer: unknown;
  /** Traces (and pieces) written to the baseline so far. */
  written = 0;
  /** Traces (and pieces) held back so far. */
  quarantined = 0;
  /** Verdicts that came after their calls were written (too late to hold them back). */
  late = 0;

  constructor(private readonly o: BaselineRecorderOptions) {
    this.segmentCalls = Math.max(16, o.segmentCalls ?? 8192);
    this.maxBuffered = o.maxBufferedCalls ?? 2_000_000;
    this.maxProcesses = o.maxProcesses ?? 20_000;
    this.settleMs = o.timers === undefined ? 0 : (o.settleMs ?? 2000);
    this.maxPieceAge = o.maxPieceAgeMs ?? 300_000;
  }

  syscall(key: string, token: number, line: EventLine): void {
    let p = this.live.get(key);
    if (p === undefined) {
      const info = line.process();
      p = this.add(key, info === undefined ? undefined : inheritProgram(info, (id) => this.live.get(id)?.info));
    }
    // Every 256 calls: a piece that has waited long enough is cut.
    if ((p.n & 255) === 255 && this.o.clock.monotonic() - p.since >= this.maxPieceAge) this.cut(key, p);
    if (p.n === p.calls.length) {
      if (p.n >= this.segmentCalls) this.cut(key, p);
      else {
        const bigger = new Uint16Array(Math.min(this.segmentCalls, p.calls.length * 4));
        bigger.set(p.calls);
        p.calls = bigger;
      }
    }
    p.calls[p.n++] = token;
    p.total++;
    if (++this.buffered > this.maxBuffered) this.relieve();
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
    this.cut(key, p);
  }

  /**
   * An alert on process `execId`: hold back the calls of the window it judged (`calls`), or,
   * without `calls`, everything the process does (a new program). Calls already written are
   * counted in `late`.
   */
  flag(execId: string, alertId: string | undefined, calls?: FlaggedCalls): void {
    const id = alertId ?? null;
    const p = this.live.get(execId);
    if (calls === undefined) {
      if (p !== undefined && p.flag === undefined) p.flag = id;
      for (const piece of this.settlingOf.get(execId) ?? []) piece.held ??= id;
      return;
    }
    const from = calls.end - calls.length;
    const to = calls.end;
    let covered = 0;
    for (const piece of this.settlingOf.get(execId) ?? []) {
      if (piece.to <= from || piece.from >= to) continue;
      piece.held ??= id;
      covered += Math.min(to, piece.to) - Math.max(from, piece.from);
    }
    if (p !== undefined && p.flag === undefined) {
      const first = p.total - p.n;
      const a = Math.max(from, first) - first;
      const b = Math.min(to, p.total) - first;
      if (b > a) {
        // What came before the window is written as usual; the window's calls are held back.
        if (a > 0) this.cutFront(execId, p, a);
        this.cutFront(execId, p, b - a, id);
        covered += b - a;
      }
    }
    if (covered < to - from) this.late++;
  }

  /**
   * Before a training: what live processes did so far is cut into pieces and everything is
   * written now (settling is skipped: the verdicts of what was cut so far are in), so the
   * baseline holds everything seen, long-lived processes too.
   */
  checkpoint(): void {
    for (const [key, p] of this.live) this.cut(key, p);
    this.writeSettled(Number.POSITIVE_INFINITY);
  }

  /** Writes every live process's calls so far and everything settling. */
  flush(): void {
    for (const key of [...this.live.keys()]) this.exit(key);
    this.writeSettled(Number.POSITIVE_INFINITY);
  }

  /** Stops the settle timer (flush() first to keep what waits). */
  stop(): void {
    if (this.timer !== undefined) this.o.timers?.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Processes followed now. */
  get size(): number {
    return this.live.size;
  }

  private add(key: string, info: ProcessInfo | undefined): Live {
    if (this.live.size >= this.maxProcesses) this.exit(this.live.keys().next().value as string);
    const program = info === undefined || info.binary === '' ? undefined : programKey(info);
    const p: Live = { info, program, startedAt: this.o.clock.now(), calls: new Uint16Array(Math.min(64, this.segmentCalls)), n: 0, total: 0, since: this.o.clock.monotonic() };
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

  /** Cuts everything `p` holds into a piece. */
  private cut(key: string, p: Live): void {
    this.cutFront(key, p, p.n, p.flag);
  }

  /** Cuts the first `count` calls `p` holds into a piece (held back by `held` when given). */
  private cutFront(key: string, p: Live, count: number, held?: string | null): void {
    if (count <= 0) return;
    const syscalls = Array.from(p.calls.subarray(0, count), (t) => this.o.names[t] ?? 'unknown').join(' ');
    const binary = p.info?.binary || 'unknown';
    const from = p.total - p.n;
    const piece: Piece = { trace: { execId: key, binary, program: p.program ?? binary, startedAt: p.startedAt, syscalls }, from, to: from + count, at: this.o.clock.monotonic() };
    if (held !== undefined) piece.held = held;
    if (count < p.n) p.calls.copyWithin(0, count, p.n);
    p.n -= count;
    p.startedAt = this.o.clock.now();
    p.since = this.o.clock.monotonic();
    this.settling.push(piece);
    const list = this.settlingOf.get(key);
    if (list === undefined) this.settlingOf.set(key, [piece]);
    else list.push(piece);
    if (this.settleMs === 0) this.writeSettled(Number.POSITIVE_INFINITY, this.o.batch ?? 4096);
    else this.arm();
  }

  /**
   * Memory above the bound: the largest live process is cut, and the oldest pieces are written
   * before they settled (under such a load a late verdict may no longer hold them back).
   */
  private relieve(): void {
    let largest: [string, Live] | undefined;
    for (const e of this.live) if (largest === undefined || e[1].n > largest[1].n) largest = e;
    if (largest !== undefined && largest[1].n > 0) this.cut(largest[0], largest[1]);
    this.writeSettled(Number.POSITIVE_INFINITY, 1, true);
  }

  /** Wakes up when the oldest piece has settled. */
  private arm(): void {
    const head = this.settling[0];
    if (this.timer !== undefined || this.o.timers === undefined || head === undefined) return;
    this.timer = this.o.timers.setTimeout(
      () => {
        this.timer = undefined;
        this.writeSettled(this.o.clock.monotonic() - this.settleMs);
        this.arm();
      },
      Math.max(1, head.at + this.settleMs - this.o.clock.monotonic()),
      { unref: true },
    );
  }

  /**
   * Writes the pieces cut at or before `cutoff` (monotonic), in transactions of at most
   * `batch` pieces or `batchCalls` calls. With `minPieces`, only when at least that many
   * have settled; with `one`, a single batch.
   */
  private writeSettled(cutoff: number, minPieces = 1, one = false): void {
    const maxPieces = this.o.batch ?? 4096;
    const maxCalls = this.o.batchCalls ?? 65_536;
    let settled = 0;
    while (settled < this.settling.length && (this.settling[settled]?.at ?? Infinity) <= cutoff) settled++;
    if (settled < minPieces) return;
    let i = 0;
    while (i < settled) {
      const baseline: BaselineTrace[] = [];
      const held: QuarantinedTrace[] = [];
      let calls = 0;
      while (i < settled && baseline.length + held.length < maxPieces && calls < maxCalls) {
        const piece = this.settling[i++] as Piece;
        calls += piece.to - piece.from;
        this.unlist(piece);
        if (piece.held === undefined) baseline.push(piece.trace);
        else held.push(piece.held === null ? piece.trace : { ...piece.trace, alertId: piece.held });
      }
      this.buffered -= calls;
      this.store(baseline, held);
      if (one) break;
    }
    this.settling = this.settling.slice(i);
  }

  private unlist(piece: Piece): void {
    const key = piece.trace.execId;
    const list = this.settlingOf.get(key);
    if (list === undefined) return;
    const at = list.indexOf(piece);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.settlingOf.delete(key);
  }

  private store(baseline: BaselineTrace[], held: QuarantinedTrace[]): void {
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
