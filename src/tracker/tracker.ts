// Per-process sliding windows of syscall tokens (DESIGN.md "Tracker").
//
// Each process (key: exec_id, or `pid:<n>`) has a ring of its last `window` tokens. The ring
// starts small and grows (×8) up to `window`, so short-lived processes stay cheap. The first
// window is cut when `window` calls have arrived, then one every `delta` new calls. At exit a
// process that never filled a window emits what it has (if at least `minWindow` calls), and
// one that did emits its last `window` calls if any arrived since its last window. Processes
// sit in a least-recently-seen list; beyond `maxProcesses` the oldest is dropped (counted in
// `evicted`, no window: it may still be running, and comes back as a new process if it is).
// A process that goes quiet is not left unjudged: after `idleFlushMs` without a call, the
// calls it made since its last window are scored as a window of its last calls (see sweep()).
// A process forked without exec whose event names no program (its binary is empty) runs its
// parent's: it takes the parent's binary, arguments and pod.
import { NO_LINE, type EventHandler, type EventLine, type Lifecycle, type ProcessInfo, type SyscallWindow, type WindowSink } from '../core/types.js';
import type { Timers } from '../core/time.js';
import { Counters } from '../core/counters.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { type Clock, fixedClock } from '../core/time.js';
import { inheritProgram } from '../core/program.js';

export interface TrackerOptions {
  window: number;
  delta: number;
  minWindow: number;
  maxProcesses: number;
  sink: WindowSink;
  counters: Counters;
  clock: Clock;
  log: Logger;
  /** Ring capacity a new process starts with (grows ×8 up to `window`). Default 32. */
  initialCapacity?: number;
  /** Quiet this long, a process's pending calls are scored (0 = only at exit). Needs `timers` and start(). */
  idleFlushMs?: number;
  timers?: Timers;
  /** Told of every exec (new-program alerts). */
  onExec?: (process: ProcessInfo) => void;
  /**
   * Calls arrive in one vocabulary (the universal one) and windows leave in the model's: a
   * window's tokens are `tokenMap[call]` (default: as they came).
   */
  tokenMap?: Int32Array;
}

type Ring = Uint16Array;

/** One tracked process; also a node of the least-recently-seen list. */
interface Proc {
  key: string;
  info: ProcessInfo;
  ring: Ring;
  /** Calls seen in total. */
  count: number;
  /** Calls since the last window. */
  since: number;
  /** Windows emitted. */
  seq: number;
  /** The sweep tick of its last call. */
  tick: number;
  prev: Proc | undefined;
  next: Proc | undefined;
}

const MAX_TOKEN = 0xffff;

/** Idle sweeps per idle period: a quiet process is flushed between 1 and 1 + 1/SWEEPS periods after its last call. */
const SWEEPS_PER_IDLE = 4;

export class Tracker implements EventHandler, Lifecycle {
  private readonly window: number;
  private readonly delta: number;
  private readonly minWindow: number;
  private readonly maxProcesses: number;
  private readonly initialCapacity: number;
  private readonly sink: WindowSink;
  private readonly counters: Counters;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly procs = new Map<string, Proc>();
  /** Least recently seen. */
  private head: Proc | undefined;
  /** Most recently seen. */
  private tail: Proc | undefined;
  private warnedWide = false;
  /** The process of the previous syscall (cleared when it is removed). */
  private last: Proc | undefined;
  private tokenMap: Int32Array | undefined;
  /** Sweeps so far: a coarse clock the hot path can read for free. */
  private tick = 0;
  private sweepTimer: unknown;

  constructor(private readonly o: TrackerOptions) {
    const opts = o;
    for (const k of ['window', 'delta', 'minWindow', 'maxProcesses'] as const) {
      if (!Number.isInteger(opts[k]) || opts[k] < 1) throw new RangeError(`tracker ${k} must be a whole number >= 1, got ${opts[k]}`);
    }
    if (opts.window > MAX_TOKEN + 1) throw new RangeError(`tracker window must be at most ${MAX_TOKEN + 1}, got ${opts.window}`);
    this.window = opts.window;
    this.delta = opts.delta;
    this.minWindow = opts.minWindow;
    this.maxProcesses = opts.maxProcesses;
    this.initialCapacity = Math.max(1, Math.min(opts.initialCapacity ?? 32, opts.window));
    this.tokenMap = opts.tokenMap;
    this.sink = opts.sink;
    this.counters = opts.counters;
    this.clock = opts.clock;
    this.log = opts.log.child({ module: 'tracker' });
  }

  /** Processes tracked now. */
  get size(): number {
    return this.procs.size;
  }

  syscall(key: string, token: number, line: EventLine): void {
    // Calls come in bursts from one thread: the previous process is checked before the map.
    let p = this.last !== undefined && this.last.key === key ? this.last : this.procs.get(key);
    if (p === undefined) {
      p = this.add(key, line.process() ?? fallbackInfo(key));
    } else if (p !== this.tail) {
      this.touch(p);
    }
    p.tick = this.tick;
    if (token > MAX_TOKEN || token < 0) token = this.wide(token);
    const w = this.window;
    let ring = p.ring;
    const n = p.count;
    if (n < ring.length) {
      ring[n] = token;
    } else if (ring.length < w) {
      ring = p.ring = grow(ring, w);
      ring[n] = token;
    } else {
      ring[n % w] = token;
    }
    p.count = n + 1;
    this.last = p;
    const since = p.since + 1;
    if (n + 1 === w || (n + 1 > w && since === this.delta)) {
      this.emit(p, false);
    } else {
      p.since = since;
    }
  }

  exec(process: ProcessInfo): void {
    this.counters.execs++;
    const info = this.inherit(process);
    const p = this.procs.get(info.execId);
    if (p === undefined) this.add(info.execId, info);
    else {
      p.info = info;
      if (p !== this.tail) this.touch(p);
    }
    this.o.onExec?.(info);
  }

  /** A process without a binary of its own (forked, not exec'd) runs its parent's program. */
  private inherit(info: ProcessInfo): ProcessInfo {
    return inheritProgram(info, (id) => this.procs.get(id)?.info);
  }

  async start(): Promise<void> {
    const idle = this.o.idleFlushMs ?? 0;
    if (idle <= 0 || this.o.timers === undefined || this.sweepTimer !== undefined) return;
    const timers = this.o.timers;
    const every = Math.max(1, Math.round(idle / SWEEPS_PER_IDLE));
    const arm = (): void => {
      this.sweepTimer = timers.setTimeout(() => {
        this.sweep();
        arm();
      }, every);
    };
    arm();
  }

  async stop(): Promise<void> {
    if (this.sweepTimer !== undefined) this.o.timers?.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /**
   * One idle sweep: every process quiet for a whole idle period (SWEEPS_PER_IDLE sweeps)
   * with calls since its last window (or, before its first, at least `minWindow` calls) has
   * them scored now, in a window of its last calls. It stays tracked.
   */
  sweep(): void {
    this.tick++;
    for (let p = this.head; p !== undefined && this.tick - p.tick > SWEEPS_PER_IDLE; p = p.next) {
      if (p.seq === 0 ? p.count >= this.minWindow && p.count > 0 : p.since > 0) {
        this.emit(p, false);
        this.counters.idleFlushes++;
      }
    }
  }

  exit(key: string): void {
    this.counters.exits++;
    const p = this.procs.get(key);
    if (p === undefined) return;
    this.finish(p);
    this.remove(p);
  }

  /** Cuts the final windows of every tracked process (as if each exited) and forgets them. */
  flush(): void {
    for (let p = this.head; p !== undefined; p = p.next) this.finish(p);
    this.procs.clear();
    this.head = this.tail = this.last = undefined;
  }

  private finish(p: Proc): void {
    if (p.seq === 0) {
      if (p.count >= this.minWindow && p.count > 0) this.emit(p, true);
    } else if (p.since > 0) {
      this.emit(p, true);
    }
  }

  /** From now on, windows leave in the tokens `map` gives (a model swap); windows already cut keep theirs. */
  setTokenMap(map: Int32Array | undefined): void {
    this.tokenMap = map;
  }

  /** Emits the last min(count, window) tokens, oldest first, as a fresh array (in the model's tokens). */
  private emit(p: Proc, final: boolean): void {
    const w = this.window;
    const ring = p.ring;
    let tokens: Int32Array;
    if (p.count <= w) {
      tokens = new Int32Array(p.count);
      tokens.set(ring.subarray(0, p.count));
    } else {
      tokens = new Int32Array(w);
      const start = p.count % w; // the oldest token
      tokens.set(ring.subarray(start, w), 0);
      tokens.set(ring.subarray(0, start), w - start);
    }
    const map = this.tokenMap;
    if (map !== undefined) for (let i = 0; i < tokens.length; i++) tokens[i] = map[tokens[i]] ?? 1;
    const win: SyscallWindow = { process: p.info, tokens, seq: p.seq, final, at: this.clock.now(), end: p.count };
    p.seq++;
    p.since = 0;
    this.counters.windows++;
    this.sink.window(win);
  }

  private add(key: string, info: ProcessInfo): Proc {
    if (this.procs.size >= this.maxProcesses && this.head !== undefined) {
      this.remove(this.head);
      this.counters.evicted++;
    }
    // Keys may be slices of a whole event line: keep a compact copy, not the line.
    const own = copyString(key);
    const p: Proc = { key: own, info: this.inherit(info), ring: new Uint16Array(this.initialCapacity), count: 0, since: 0, seq: 0, tick: this.tick, prev: this.tail, next: undefined };
    if (this.tail !== undefined) this.tail.next = p;
    else this.head = p;
    this.tail = p;
    this.procs.set(own, p);
    this.counters.processes++;
    return p;
  }

  /** Moves `p` to the most-recently-seen end. */
  private touch(p: Proc): void {
    const { prev, next } = p;
    if (next === undefined) return;
    if (prev !== undefined) prev.next = next;
    else this.head = next;
    next.prev = prev;
    p.prev = this.tail;
    p.next = undefined;
    if (this.tail !== undefined) this.tail.next = p;
    this.tail = p;
  }

  private remove(p: Proc): void {
    const { prev, next } = p;
    if (prev !== undefined) prev.next = next;
    else this.head = next;
    if (next !== undefined) next.prev = prev;
    else this.tail = prev;
    p.prev = p.next = undefined;
    if (this.last === p) this.last = undefined;
    this.procs.delete(p.key);
  }

  private wide(token: number): number {
    if (!this.warnedWide) {
      this.warnedWide = true;
      this.log.warn({ token }, 'token outside 0..65535; the model vocabulary is too large for the tracker, recording it as unknown');
    }
    return 1;
  }
}

function grow(ring: Ring, max: number): Ring {
  // ×8 steps (32, 256, 2048, …): few reallocations, so little heap left fragmented by freed rings.
  const bigger = new Uint16Array(Math.min(max, ring.length * 8));
  bigger.set(ring);
  return bigger;
}

/** A flat copy of a string (a slice would keep its whole parent line alive). */
function copyString(s: string): string {
  return s.length < 13 ? s : JSON.parse(JSON.stringify(s)) as string;
}

function fallbackInfo(key: string): ProcessInfo {
  const pid = key.startsWith('pid:') ? Number(key.slice(4)) : 0;
  return { execId: key, pid: Number.isSafeInteger(pid) ? pid : 0, binary: '', arguments: '' };
}

let quietLogger: Logger | undefined;
function quiet(): Logger {
  return (quietLogger ??= silentLogger());
}

export interface WindowingOptions {
  window: number;
  delta: number;
  minWindow: number;
}

/**
 * The windows the daemon would cut from one process's trace: drives a real Tracker
 * (exec → syscalls → exit), so training and evaluation window exactly as the daemon does.
 */
export function windowsOfTrace(tokens: ArrayLike<number>, opts: WindowingOptions): Int32Array[] {
  const out: Int32Array[] = [];
  const tracker = new Tracker({
    ...opts,
    maxProcesses: 1,
    sink: { window: (w) => out.push(w.tokens) },
    counters: new Counters(),
    clock: fixedClock(),
    log: quiet(),
  });
  const info: ProcessInfo = { execId: 'trace', pid: 0, binary: '', arguments: '' };
  tracker.exec(info);
  for (let i = 0; i < tokens.length; i++) tracker.syscall('trace', tokens[i], NO_LINE);
  tracker.exit('trace');
  return out;
}
