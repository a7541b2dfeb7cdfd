// The one owner of ONNX Runtime: opens a model, checks it against the contract, and scores
// batches of windows (and, for windows that alert, each call's surprisal). Mode 'worker' (the
// default under Node) runs one session per worker thread; a thread that dies is started again
// with capped exponential backoff while the others carry on. Mode 'inline' runs on the calling
// thread with `workers` intra-op threads (tools such as evaluation, and runtimes without
// worker support). test/bench/classify.ts measures both.
import type { Classifier, ClassifierHealth } from '../core/types.js';
import type { ModelCard } from '../core/model-card.js';
import { Backoff } from '../core/backoff.js';
import type { Logger } from '../core/logger.js';
import { systemTimers, type Timers } from '../core/time.js';
import type { ClassifierOpener, LoadedModel } from '../model/folder.js';
import { isBun } from '../runtime/platform.js';
import { InlineEngine, WorkerEngine, type Engine } from './onnx/engines.js';
import type { ModelIo } from './onnx/io.js';
import { PackBuffers, packProfiles, packWindows } from './onnx/pack.js';
import type { OutputKind } from './onnx/session.js';

export { loadOrt } from './onnx/session.js';
export { serveClassifierWorker } from './onnx/engines.js';
export { checkModelIo, INPUT_NAME, OUTPUT_NAME, type IoInfo } from './onnx/io.js';
export { packWindows, PackBuffers } from './onnx/pack.js';

export interface OnnxClassifierOptions {
  /** MAX_CLASSIFICATION_WORKERS: worker threads ('worker' mode) or intra-op threads ('inline'). */
  workers?: number;
  /** Default 'worker' under Node; 'inline' under Bun unless `workerUrl` is given (a compiled binary has no worker script on disk). */
  mode?: 'worker' | 'inline';
  /** Script that hosts a worker (default: onnx-worker next to this module). Swappable for bundles. */
  workerUrl?: URL | string;
  /** Restart delays of a worker thread that died (default 1 s doubling to 1 min, half jitter). */
  backoff?: { initialMs?: number; maxMs?: number };
  timers?: Timers;
  log?: Logger;
}


/** Scores windows with an ONNX model; see the module comment for the two modes. */
export class OnnxClassifier implements Classifier {
  /** How many calls can usefully run at once (the detector's maxInFlight should exceed it by one). */
  readonly concurrency: number;
  readonly surprisals: ((windows: readonly Int32Array[], profiles?: Int32Array) => Promise<Float32Array[]>) | undefined;
  private readonly buffers: PackBuffers;
  private readonly backoff: Backoff;
  private readonly timers: Timers;
  /** Engines being started again → their pending timer. */
  private readonly restarting = new Map<number, unknown>();
  private closed = false;
  private restartCount = 0;

  private constructor(
    readonly card: ModelCard,
    private readonly engines: Engine[],
    readonly mode: 'worker' | 'inline',
    readonly io: ModelIo,
    private readonly model: LoadedModel,
    private readonly opts: OnnxClassifierOptions,
  ) {
    this.concurrency = engines.length;
    this.buffers = new PackBuffers(card.window, engines.length + 1);
    this.backoff = new Backoff({ initialMs: 1000, maxMs: 60_000, ...opts.backoff });
    this.timers = opts.timers ?? systemTimers;
    this.surprisals = io.surprisal ? (windows, profiles) => this.explain(windows, profiles) : undefined;
  }

  /** Opens the model; throws ModelError when it breaks the contract. */
  static async open(model: LoadedModel, opts: OnnxClassifierOptions = {}): Promise<OnnxClassifier> {
    const workers = Math.max(1, Math.floor(opts.workers ?? 1));
    const mode = opts.mode ?? (isBun() && opts.workerUrl === undefined ? 'inline' : 'worker');
    if (mode === 'inline') {
      const engine = await InlineEngine.open(model, workers);
      return new OnnxClassifier(model.card, [engine], mode, engine.io, model, opts);
    }
    const engines: Engine[] = [];
    try {
      // One at a time: a bad model fails on the first worker, without starting the others.
      for (let i = 0; i < workers; i++) engines.push(await WorkerEngine.open(model, opts.workerUrl));
    } catch (e) {
      await Promise.allSettled(engines.map((x) => x.close()));
      throw e;
    }
    return new OnnxClassifier(model.card, engines, mode, engines[0].io, model, opts);
  }

  score(windows: readonly Int32Array[], profiles?: Int32Array): Promise<Float32Array> {
    return this.run(windows, profiles, 'score');
  }

  /** Each call's surprisal in each window (as long as the window, up to the model's width). */
  private async explain(windows: readonly Int32Array[], profiles?: Int32Array): Promise<Float32Array[]> {
    const width = this.card.window;
    const all = await this.run(windows, profiles, 'surprisal');
    return windows.map((w, i) => all.slice(i * width, i * width + Math.min(w.length, width)));
  }

  private async run(windows: readonly Int32Array[], profiles: Int32Array | undefined, output: OutputKind): Promise<Float32Array> {
    if (windows.length === 0) return new Float32Array(0);
    if (this.closed) throw new Error('the classifier is closed');
    const engine = this.pick();
    const data = packWindows(windows, this.card.window, this.buffers.take(windows.length));
    const req = { data, n: windows.length, output, ...(this.io.profiles ? { profiles: packProfiles(windows.length, profiles) } : {}) };
    try {
      const { values, input } = await engine.run(req);
      this.buffers.give(input);
      if (output === 'score') this.backoff.reset();
      return values;
    } catch (e) {
      this.reviveDead();
      throw e;
    }
  }

  /** Packed input buffers waiting for reuse (for tests and diagnostics). */
  get spareBuffers(): number {
    return this.buffers.spare;
  }

  health(): ClassifierHealth {
    return { restarts: this.restartCount, dead: this.engines.filter((e) => e instanceof WorkerEngine && e.dead).length, engines: this.engines.length };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.restarting.values()) this.timers.clearTimeout(timer);
    this.restarting.clear();
    const engines = this.engines.splice(0);
    const results = await Promise.allSettled(engines.map((e) => e.close()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** The least busy live engine (a dead one only when every one is dead: its run fails at once). */
  private pick(): Engine {
    let best: Engine | undefined;
    let dead = false;
    for (const e of this.engines) {
      if (e instanceof WorkerEngine && e.dead) {
        dead = true;
        continue;
      }
      if (best === undefined || e.busy < best.busy) best = e;
    }
    if (dead) this.reviveDead();
    return best ?? this.engines[0];
  }

  /** Starts dead worker threads again, each after the next backoff delay. */
  private reviveDead(): void {
    this.engines.forEach((e, i) => {
      if (!(e instanceof WorkerEngine) || !e.dead || this.restarting.has(i) || this.closed) return;
      const wait = this.backoff.next();
      this.opts.log?.error({ worker: i, restartInMs: wait, restarts: this.restartCount }, 'a classifier worker thread died; starting it again');
      this.restarting.set(i, this.timers.setTimeout(() => {
        WorkerEngine.open(this.model, this.opts.workerUrl).then(
          async (fresh) => {
            this.restarting.delete(i);
            if (this.closed) return fresh.close();
            this.engines[i] = fresh;
            this.restartCount++;
            this.opts.log?.info({ worker: i, restarts: this.restartCount }, 'classifier worker thread started again');
          },
          (err: unknown) => {
            this.restarting.delete(i);
            this.opts.log?.error({ worker: i, err }, 'cannot start the classifier worker thread again; will retry');
            this.reviveDead();
          },
        );
      }, wait));
    });
  }
}

/** Opens a model on the calling thread with one intra-op thread (training, evaluation, checks). */
export const openInlineClassifier: ClassifierOpener = (model) => OnnxClassifier.open(model, { mode: 'inline', workers: 1 });
