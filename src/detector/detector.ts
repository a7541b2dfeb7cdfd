// The detector stage: windows from the tracker are queued, batched across processes, scored by
// the classifier and handed on as verdicts. Bounded: a full queue sheds new windows (counted),
// so the reader is never blocked and memory never grows without bound.
import type { Classifier, Lifecycle, ProcessInfo, SyscallWindow, Verdict, VerdictSink, WindowSink } from '../core/types.js';
import type { WhyCall } from '../core/alert.js';
import { whyOf } from './why.js';
import { systemClock, systemTimers, type Clock, type Timers } from '../core/time.js';
import type { Counters } from '../core/counters.js';
import { RateLimitedLog, type Logger } from '../core/logger.js';

/** Per-batch figures, for the latency histogram in /metrics. */
export interface BatchStats {
  batches: number;
  windows: number;
  /** Sum and maximum of per-batch classifier time, ms. */
  totalMs: number;
  maxMs: number;
  /** Batches whose classification failed. */
  failedBatches: number;
}

/** A model as the detector runs it; swapped whole (swap()) when the device's model changes. */
export interface ScoringModel {
  classifier: Classifier;
  /** Verdicts name it (the card's name). */
  name?: string;
  /** The alert threshold: windows scoring at least this are asked why. */
  threshold: number;
  /** The model profile that scores a process's windows (default: 0 for all). */
  profileOf?: (process: ProcessInfo) => number;
  /** Token → syscall name, for why (without it, no why). */
  names?: readonly string[];
}

export interface DetectorOptions {
  /** The model at start; or give `classifier` (with `profileOf` and `explain`) for a fixed one. */
  model?: ScoringModel;
  classifier?: Classifier;
  sink: VerdictSink;
  counters: Counters;
  log: Logger;
  /** Most windows in one classifier call. */
  batchSize: number;
  /** Most windows waiting; beyond this, new windows are shed. */
  queueMax: number;
  /** Most classifier calls running at once (default: the classifier's concurrency + 1, so one batch is always ready to go). */
  maxInFlight?: number;
  /** Batch latency is measured on the monotonic clock. */
  clock?: Clock;
  timers?: Timers;
  /** Called after each batch with its classifier time and size. */
  onBatch?: (ms: number, size: number) => void;
  /** How long `stop()` waits for queued windows to be classified (default 10 s). */
  drainTimeoutMs?: number;
  /** The model profile that scores a process's windows (default: 0 for all). */
  profileOf?: (process: ProcessInfo) => number;
  /** For windows scoring at least `threshold`: their most surprising calls (models that report surprisal). */
  explain?: { threshold: number; names: readonly string[] };
}

/** The model a DetectorOptions describes. */
function modelOf(o: DetectorOptions): ScoringModel {
  if (o.model !== undefined) return o.model;
  if (o.classifier === undefined) throw new RangeError('the detector needs a model or a classifier');
  const m: ScoringModel = { classifier: o.classifier, threshold: o.explain?.threshold ?? Number.POSITIVE_INFINITY };
  if (o.profileOf !== undefined) m.profileOf = o.profileOf;
  if (o.explain !== undefined) m.names = o.explain.names;
  return m;
}

/**
 * A bounded FIFO over a fixed ring, so shedding and dequeuing are O(1) without shifting
 * arrays. Each window keeps the model it was cut for; a batch never mixes models.
 */
class WindowQueue {
  private readonly ring: (SyscallWindow | undefined)[];
  private readonly models: (ScoringModel | undefined)[];
  private head = 0;
  size = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<SyscallWindow | undefined>(capacity);
    this.models = new Array<ScoringModel | undefined>(capacity);
  }

  push(w: SyscallWindow, model: ScoringModel): boolean {
    if (this.size === this.capacity) return false;
    const at = (this.head + this.size) % this.capacity;
    this.ring[at] = w;
    this.models[at] = model;
    this.size++;
    return true;
  }

  /** Up to `n` windows from the head, all of the head's model. */
  take(n: number): { model: ScoringModel | undefined; windows: SyscallWindow[] } {
    const model = this.models[this.head];
    const out: SyscallWindow[] = [];
    while (out.length < n && this.size > 0 && this.models[this.head] === model) {
      out.push(this.ring[this.head] as SyscallWindow);
      this.ring[this.head] = undefined;
      this.models[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.size--;
    }
    return { model, windows: out };
  }

  /** Windows waiting for `model`. */
  count(model: ScoringModel): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if (this.models[(this.head + i) % this.capacity] === model) n++;
    return n;
  }

  clear(): number {
    const n = this.size;
    while (this.size > 0) this.take(this.size);
    return n;
  }
}

type State = 'idle' | 'running' | 'stopping' | 'stopped';

export class Detector implements WindowSink, Lifecycle {
  readonly stats: BatchStats = { batches: 0, windows: 0, totalMs: 0, maxMs: 0, failedBatches: 0 };
  private readonly queue: WindowQueue;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly maxInFlight: number;
  private readonly shedLog: RateLimitedLog;
  private readonly errorLog: RateLimitedLog;
  private state: State = 'idle';
  /** The model new windows are scored by. */
  private model: ScoringModel;
  /** Models swapped out, waiting for their last windows to be scored → their classifiers' close. */
  private readonly retiring = new Map<ScoringModel, () => void>();
  /** Classifier calls running, per model. */
  private readonly inFlightBy = new Map<ScoringModel, number>();
  private profileCache = new WeakMap<ProcessInfo, number>();
  private inFlight = 0;
  private flushScheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: DetectorOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new RangeError(`batchSize must be a whole number >= 1, got ${opts.batchSize}`);
    if (!Number.isInteger(opts.queueMax) || opts.queueMax < 1) throw new RangeError(`queueMax must be a whole number >= 1, got ${opts.queueMax}`);
    this.queue = new WindowQueue(opts.queueMax);
    this.clock = opts.clock ?? systemClock;
    this.timers = opts.timers ?? systemTimers;
    this.model = modelOf(opts);
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? (this.model.classifier.concurrency ?? 1) + 1);
    this.shedLog = new RateLimitedLog(opts.log, 1, 60_000, this.clock);
    this.errorLog = new RateLimitedLog(opts.log, 5, 60_000, this.clock);
  }

  /** Windows waiting for the classifier. */
  get queued(): number {
    return this.queue.size;
  }

  /** Classifier calls running now. */
  get running(): number {
    return this.inFlight;
  }

  /** The model new windows are scored by. */
  get current(): ScoringModel {
    return this.model;
  }

  /**
   * Scores windows cut from now on with `next`. Windows already queued or being scored finish
   * on the model they were cut for; once the last of them is handed on, that model's
   * classifier is closed and the returned promise resolves.
   */
  swap(next: ScoringModel): Promise<void> {
    const old = this.model;
    if (next === old) return Promise.resolve();
    this.model = next;
    this.profileCache = new WeakMap();
    return new Promise<void>((resolve) => {
      this.retiring.set(old, resolve);
      this.retireIfDone(old);
    });
  }

  /** Closes a swapped-out model's classifier once none of its windows is left. */
  private retireIfDone(model: ScoringModel): void {
    const done = this.retiring.get(model);
    if (done === undefined || (this.inFlightBy.get(model) ?? 0) > 0 || this.queue.count(model) > 0) return;
    this.retiring.delete(model);
    model.classifier.close().then(done, (e: unknown) => {
      this.opts.log.error({ err: e }, 'closing the previous classifier failed');
      done();
    });
  }

  start(): Promise<void> {
    if (this.state === 'idle') {
      this.state = 'running';
      if (this.queue.size > 0) this.scheduleFlush();
    }
    return Promise.resolve();
  }

  /** Accepts a window; never blocks. Sheds (and counts) it when the queue is full or the detector stopped. */
  window(w: SyscallWindow): void {
    if (this.state === 'stopped' || !this.queue.push(w, this.model)) {
      this.opts.counters.shed++;
      this.shedLog.warn(
        { queued: this.queue.size, queueMax: this.queue.capacity, shed: this.opts.counters.shed },
        this.state === 'stopped' ? 'window arrived after the detector stopped; dropped' : 'classifier cannot keep up; shedding windows (raise MAX_CLASSIFICATION_WORKERS or ARGOS_QUEUE_MAX)',
      );
      return;
    }
    if (this.state === 'idle') return;
    if (this.queue.size >= this.opts.batchSize && this.inFlight < this.maxInFlight) this.dispatch();
    else this.scheduleFlush();
  }

  /**
   * Resolves `true` once every accepted window has been classified and handed on,
   * or `false` if that did not happen within `timeoutMs`.
   */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.isIdle()) return Promise.resolve(true);
    if (this.state !== 'idle') this.scheduleFlush();
    return new Promise<boolean>((resolve) => {
      let settled = false;
      const waiter = (): void => {
        if (settled) return;
        settled = true;
        this.timers.clearTimeout(timer);
        resolve(true);
      };
      const timer = this.timers.setTimeout(() => {
        if (settled) return;
        settled = true;
        this.idleWaiters = this.idleWaiters.filter((x) => x !== waiter);
        resolve(false);
      }, timeoutMs);
      this.idleWaiters.push(waiter);
    });
  }

  /** Classifies what is queued (within the drain timeout), then closes the classifier. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    const wasIdle = this.state === 'idle';
    this.state = 'stopping';
    const timeoutMs = this.opts.drainTimeoutMs ?? 10_000;
    if (!wasIdle && !(await this.drain(timeoutMs))) {
      const dropped = this.queue.clear();
      this.opts.counters.shed += dropped;
      this.opts.log.warn({ dropped, running: this.inFlight, timeoutMs }, 'windows still queued at stop after the drain timeout; dropped');
      // Let running classifier calls end before the classifier is closed under them.
      if (this.inFlight > 0 && !(await this.drain(timeoutMs))) {
        this.opts.log.warn({ running: this.inFlight }, 'classifier calls still running at stop; closing anyway');
      }
    } else if (wasIdle) {
      const dropped = this.queue.clear();
      this.opts.counters.shed += dropped;
    }
    this.state = 'stopped';
    const models = [this.model, ...this.retiring.keys()];
    const waiting = [...this.retiring.values()];
    this.retiring.clear();
    for (const m of models) {
      try {
        await m.classifier.close();
      } catch (e) {
        this.opts.log.error({ err: e }, 'closing the classifier failed');
      }
    }
    for (const done of waiting) done();
  }

  private isIdle(): boolean {
    return this.queue.size === 0 && this.inFlight === 0;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.timers.immediate(() => {
      this.flushScheduled = false;
      this.pump();
    });
  }

  /** Starts batches while there is work and room. */
  private pump(): void {
    while (this.queue.size > 0 && this.inFlight < this.maxInFlight && this.state !== 'idle') this.dispatch();
    this.notifyIfIdle();
  }

  private dispatch(): void {
    const { model, windows } = this.queue.take(this.opts.batchSize);
    if (model === undefined || windows.length === 0) return;
    this.inFlight++;
    this.inFlightBy.set(model, (this.inFlightBy.get(model) ?? 0) + 1);
    void this.run(model, windows);
  }

  /** The profile of each window's process, remembered per process (for the current model). */
  private profiles(model: ScoringModel, batch: readonly SyscallWindow[]): Int32Array | undefined {
    const of = model.profileOf;
    if (of === undefined) return undefined;
    const cache = model === this.model ? this.profileCache : undefined;
    return Int32Array.from(batch, (w) => {
      const known = cache?.get(w.process);
      if (known !== undefined) return known;
      const p = of(w.process);
      cache?.set(w.process, p);
      return p;
    });
  }

  /** Why each window at or above the threshold scored as it did (empty when the model cannot say). */
  private async whys(model: ScoringModel, batch: readonly SyscallWindow[], profiles: Int32Array | undefined, scores: Float32Array): Promise<(WhyCall[] | undefined)[]> {
    const out: (WhyCall[] | undefined)[] = new Array<WhyCall[] | undefined>(batch.length);
    const names = model.names;
    const surprisals = model.classifier.surprisals;
    if (names === undefined || surprisals === undefined) return out;
    const hot: number[] = [];
    for (let i = 0; i < batch.length; i++) if (scores[i] >= model.threshold) hot.push(i);
    if (hot.length === 0) return out;
    try {
      const per = await surprisals.call(
        model.classifier,
        hot.map((i) => batch[i].tokens),
        profiles === undefined ? undefined : Int32Array.from(hot, (i) => profiles[i]),
      );
      hot.forEach((i, j) => (out[i] = whyOf(batch[i].tokens, per[j], names)));
    } catch (e) {
      this.errorLog.warn({ err: e, windows: hot.length }, 'cannot read why windows alerted; their alerts go out without it');
    }
    return out;
  }

  private async run(model: ScoringModel, batch: SyscallWindow[]): Promise<void> {
    const t0 = this.clock.monotonic();
    try {
      const profiles = this.profiles(model, batch);
      const scores = await model.classifier.score(batch.map((w) => w.tokens), profiles);
      const ms = this.clock.monotonic() - t0;
      this.record(ms, batch.length);
      if (scores.length !== batch.length) throw new Error(`classifier returned ${scores.length} scores for ${batch.length} windows`);
      this.opts.counters.classified += batch.length;
      const whys = await this.whys(model, batch, profiles, scores);
      for (let i = 0; i < batch.length; i++) {
        try {
          const v: Verdict = { window: batch[i], score: scores[i], threshold: model.threshold };
          if (model.name !== undefined) v.model = model.name;
          const why = whys[i];
          if (why !== undefined) v.why = why;
          this.opts.sink.verdict(v);
        } catch (e) {
          this.errorLog.warn({ err: e, execId: batch[i].process.execId }, 'handling a verdict failed; continuing');
        }
      }
    } catch (e) {
      this.stats.failedBatches++;
      this.opts.counters.classifyFailed += batch.length;
      this.errorLog.warn({ err: e, windows: batch.length }, 'classifying a batch failed; its windows are not scored');
    } finally {
      this.inFlight--;
      this.inFlightBy.set(model, (this.inFlightBy.get(model) ?? 1) - 1);
      if (model !== this.model) this.retireIfDone(model);
      if (this.queue.size > 0) this.pump();
      else this.notifyIfIdle();
    }
  }

  private record(ms: number, size: number): void {
    const s = this.stats;
    s.batches++;
    s.windows += size;
    s.totalMs += ms;
    if (ms > s.maxMs) s.maxMs = ms;
    try {
      this.opts.onBatch?.(ms, size);
    } catch (e) {
      this.errorLog.warn({ err: e }, 'batch hook failed');
    }
  }

  private notifyIfIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
