// The one owner of ONNX Runtime. Opens a model, checks its inputs and outputs against the
// contract, and scores batches of windows as one int64 [batch, window] tensor.
//
// onnxruntime-node runs a session synchronously on the calling JS thread (its `run()` only
// defers to the next tick), so on the main thread a batch blocks the event loop for as long as
// the model takes. Mode 'worker' (the default) runs one session per worker thread instead;
// the main thread only packs tokens and transfers buffers. Mode 'inline' runs on the calling
// thread with `workers` intra-op threads (for tools such as evaluation, and runtimes without
// worker support). test/bench/classify.ts measures both.
import { Worker, parentPort, workerData } from 'node:worker_threads';
import { endianness } from 'node:os';
import type * as OrtModule from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import type { Classifier } from '../core/types.js';
import { ModelError, type ClassifierOpener, type LoadedModel } from '../model/folder.js';
import { prepareOrt } from '../runtime/ort.js';
import { isBun } from '../runtime/platform.js';
import { startSiblingWorker } from '../runtime/worker.js';
import type { ModelCard } from '../core/model-card.js';

type Ort = typeof OrtModule;

export const INPUT_NAME = 'syscalls';
export const OUTPUT_NAME = 'score';

/** Loads ONNX Runtime lazily, with telemetry off before the native library starts. */
export async function loadOrt(): Promise<Ort> {
  prepareOrt();
  return await import('onnxruntime-node');
}

export interface OnnxClassifierOptions {
  /** MAX_CLASSIFICATION_WORKERS: worker threads ('worker' mode) or intra-op threads ('inline'). */
  workers?: number;
  /** Default 'worker' under Node; 'inline' under Bun unless `workerUrl` is given (a compiled binary has no worker script on disk). */
  mode?: 'worker' | 'inline';
  /** Script that hosts a worker (default: onnx-worker next to this module). Swappable for bundles. */
  workerUrl?: URL | string;
}

/** The slice of session metadata the contract check needs (plain data, so a worker can send it). */
export interface IoInfo {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: readonly (number | string)[];
}

function describe(info: IoInfo): string {
  if (!info.isTensor) return `"${info.name}" (not a tensor)`;
  return `"${info.name}" ${info.type ?? '?'} [${(info.shape ?? []).join(', ')}]`;
}

/** Checks a session's inputs and outputs against the model contract and the card. */
export function checkModelIo(inputs: readonly IoInfo[], outputs: readonly IoInfo[], card: ModelCard, source: string): void {
  const fix = 'the model must take "syscalls" int64 [batch, window] and give "score" float32 [batch]; export it with "argos train"';
  const input = inputs.find((i) => i.name === INPUT_NAME);
  if (inputs.length !== 1 || input === undefined) {
    throw new ModelError(`${source}: the model's inputs are ${inputs.map(describe).join(', ') || 'none'}, expected exactly one named "${INPUT_NAME}"; ${fix}`);
  }
  if (!input.isTensor || input.type !== 'int64') throw new ModelError(`${source}: input ${describe(input)} must be an int64 tensor; ${fix}`);
  const shape = input.shape ?? [];
  if (shape.length !== 0) {
    if (shape.length !== 2) throw new ModelError(`${source}: input ${describe(input)} has rank ${shape.length}, expected 2 ([batch, window]); ${fix}`);
    const [batch, window] = shape;
    if (typeof batch === 'number' && batch !== -1) throw new ModelError(`${source}: input ${describe(input)} has a fixed batch size ${batch}; the batch dimension must be symbolic; ${fix}`);
    if (typeof window === 'number' && window !== -1 && window !== card.window) {
      throw new ModelError(`${source}: input ${describe(input)} takes windows of ${window} but the model card says window ${card.window}; use the model.json trained with this model`);
    }
  }
  const output = outputs.find((o) => o.name === OUTPUT_NAME);
  if (output === undefined) throw new ModelError(`${source}: the model's outputs are ${outputs.map(describe).join(', ') || 'none'}, none named "${OUTPUT_NAME}"; ${fix}`);
  if (!output.isTensor || output.type !== 'float32') throw new ModelError(`${source}: output ${describe(output)} must be a float32 tensor; ${fix}`);
  const oshape = output.shape ?? [];
  if (oshape.length !== 0 && oshape.length !== 1) throw new ModelError(`${source}: output ${describe(output)} has rank ${oshape.length}, expected 1 ([batch]); ${fix}`);
}

function ioInfo(meta: readonly InferenceSession.ValueMetadata[]): IoInfo[] {
  return meta.map((m) => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false }));
}

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Packs windows into one zero-padded int64 [n, width] buffer (`into` when given, which must
 * hold at least n × width values; it is cleared first). Windows longer than `width` keep their
 * last `width` tokens. Tokens are small non-negative ints, so on little-endian machines the low
 * 32-bit half of each int64 is written directly (no BigInt per token).
 */
export function packWindows(windows: readonly Int32Array[], width: number, into?: ArrayBuffer): BigInt64Array {
  const size = windows.length * width;
  let out: BigInt64Array;
  if (into === undefined) out = new BigInt64Array(size);
  else {
    if (into.byteLength < size * 8) throw new RangeError(`packWindows: the buffer holds ${into.byteLength >> 3} values, ${size} needed`);
    out = new BigInt64Array(into, 0, size);
  }
  if (LITTLE_ENDIAN) {
    const halves = new Int32Array(out.buffer, 0, size * 2);
    if (into !== undefined) halves.fill(0);
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i];
      const from = w.length > width ? w.length - width : 0;
      let o = i * width * 2;
      for (let j = from; j < w.length; j++, o += 2) halves[o] = w[j];
    }
  } else {
    if (into !== undefined) out.fill(0n);
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i];
      const from = w.length > width ? w.length - width : 0;
      for (let j = from; j < w.length; j++) out[i * width + j - from] = BigInt(w[j]);
    }
  }
  return out;
}

/**
 * Reuses the packed input buffers. A batch of 64 windows of 1024 is 512 KB; allocating one per
 * batch left tens of megabytes of dead buffers resident between collections (a worker thread
 * collects its transferred buffers late), so buffers go back here once their batch is scored.
 */
export class PackBuffers {
  private readonly free: ArrayBuffer[] = [];
  private rows = 0;

  constructor(private readonly width: number, private readonly keep = 4) {}

  /** A buffer for at least `n` windows. */
  take(n: number): ArrayBuffer {
    if (n > this.rows) {
      // A larger batch than any before: older, smaller buffers are dropped.
      this.rows = n;
      this.free.length = 0;
    }
    return this.free.pop() ?? new ArrayBuffer(this.rows * this.width * 8);
  }

  /** Hands a buffer back (ignored if it is too small now, detached, or enough are kept). */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength >= this.rows * this.width * 8 && this.free.length < this.keep) this.free.push(buffer);
  }

  /** Buffers waiting to be reused. */
  get spare(): number {
    return this.free.length;
  }
}

async function openSession(ort: Ort, bytes: Uint8Array, threads: number, source: string): Promise<InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // No CPU memory arena: on a small device ~30 MB less resident for a few percent of
      // classification speed (measured in docs/benchmarks.md), far above what a device needs.
      enableCpuMemArena: false,
      logSeverityLevel: 3,
    });
  } catch (e) {
    throw new ModelError(`${source}: ONNX Runtime cannot open this model (${(e as Error).message.trim()}); set TRAINED_MODEL_PATH to an ONNX file written by "argos train"`, { cause: e });
  }
}

async function runSession(ort: Ort, session: InferenceSession, data: BigInt64Array, n: number, width: number): Promise<Float32Array> {
  const out = await session.run({ [INPUT_NAME]: new ort.Tensor('int64', data, [n, width]) }, [OUTPUT_NAME]);
  const score = out[OUTPUT_NAME];
  if (score.type !== 'float32' || score.size !== n) throw new Error(`the model gave ${score.size} ${score.type} scores for ${n} windows`);
  return score.data as Float32Array;
}

/** What an engine gives back: the scores, and the input buffer for reuse once it is free. */
interface RunResult {
  scores: Float32Array;
  input: ArrayBuffer;
}

/** Runs one session per call site; what OnnxClassifier delegates to in each mode. */
interface Engine {
  run(data: BigInt64Array, n: number): Promise<RunResult>;
  close(): Promise<void>;
}

class InlineEngine implements Engine {
  constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    private readonly width: number,
  ) {}

  static async open(model: LoadedModel, threads: number): Promise<InlineEngine> {
    const ort = await loadOrt();
    const session = await openSession(ort, model.modelBytes, threads, model.files.model);
    try {
      checkModelIo(ioInfo(session.inputMetadata), ioInfo(session.outputMetadata), model.card, model.files.model);
    } catch (e) {
      await session.release();
      throw e;
    }
    return new InlineEngine(ort, session, model.card.window);
  }

  async run(data: BigInt64Array, n: number): Promise<RunResult> {
    return { scores: await runSession(this.ort, this.session, data, n, this.width), input: data.buffer as ArrayBuffer };
  }

  close(): Promise<void> {
    return this.session.release();
  }
}

// Messages between the classifier and its worker threads.
interface WorkerInit {
  bytes: Uint8Array;
  width: number;
  source: string;
}
type ToWorker = { kind: 'run'; id: number; data: BigInt64Array; n: number } | { kind: 'close' };
type FromWorker =
  | { kind: 'ready'; inputs: IoInfo[]; outputs: IoInfo[] }
  | { kind: 'failed'; message: string; model: boolean }
  | { kind: 'result'; id: number; scores: Float32Array; input: ArrayBuffer }
  | { kind: 'error'; id: number; message: string };

/** The body of a classifier worker thread (started by onnx-worker.ts). */
export async function serveClassifierWorker(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('serveClassifierWorker() must run in a worker thread');
  const init = workerData as WorkerInit;
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  let ort: Ort;
  let session: InferenceSession;
  try {
    ort = await loadOrt();
    session = await openSession(ort, init.bytes, 1, init.source);
  } catch (e) {
    post({ kind: 'failed', message: (e as Error).message, model: e instanceof ModelError });
    return;
  }
  port.on('message', (m: ToWorker) => {
    switch (m.kind) {
      case 'run':
        // The input buffer goes back with the answer, for the next batch.
        runSession(ort, session, m.data, m.n, init.width).then(
          (scores) => post({ kind: 'result', id: m.id, scores, input: m.data.buffer as ArrayBuffer }, [scores.buffer as ArrayBuffer, m.data.buffer as ArrayBuffer]),
          (e: unknown) => post({ kind: 'error', id: m.id, message: (e as Error).message }),
        );
        break;
      case 'close':
        session.release().then(
          () => port.close(),
          () => port.close(),
        );
        break;
    }
  });
  post({ kind: 'ready', inputs: ioInfo(session.inputMetadata), outputs: ioInfo(session.outputMetadata) });
}

/** Starts a worker thread on `url`, or on onnx-worker next to this module. */
function startWorker(init: WorkerInit, url: URL | string | undefined): Worker {
  if (url !== undefined) return new Worker(url, { workerData: init });
  return startSiblingWorker(import.meta.url, 'onnx-worker', init);
}

/** One worker thread holding one session. */
class WorkerEngine implements Engine {
  private readonly pending = new Map<number, { resolve: (r: RunResult) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private exited = false;
  private readonly exitedPromise: Promise<void>;

  private constructor(private readonly worker: Worker) {
    this.exitedPromise = new Promise<void>((resolve) => {
      worker.once('exit', (code) => {
        this.exited = true;
        this.failAll(new Error(`the classifier worker thread ended (exit code ${code})`));
        resolve();
      });
    });
    worker.on('error', (e) => this.failAll(e));
    worker.on('message', (m: FromWorker) => {
      if (m.kind !== 'result' && m.kind !== 'error') return;
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.kind === 'result') p.resolve({ scores: m.scores, input: m.input });
      else p.reject(new Error(m.message));
    });
  }

  get busy(): number {
    return this.pending.size;
  }

  static async open(model: LoadedModel, url: URL | string | undefined): Promise<WorkerEngine> {
    const init: WorkerInit = { bytes: model.modelBytes, width: model.card.window, source: model.files.model };
    // A worker's process.env is a copy; the native library reads the real environment,
    // so telemetry is switched off here, in the main thread, before any worker loads it.
    prepareOrt();
    const worker = startWorker(init, url);
    const first = await new Promise<FromWorker>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the classifier worker thread ended while starting (exit code ${code})`)));
    }).catch(async (e: unknown) => {
      await worker.terminate();
      throw e;
    });
    if (first.kind === 'failed') {
      await worker.terminate();
      throw first.model ? new ModelError(first.message) : new Error(first.message);
    }
    if (first.kind !== 'ready') {
      await worker.terminate();
      throw new Error(`unexpected first message from the classifier worker: ${first.kind}`);
    }
    const engine = new WorkerEngine(worker);
    try {
      checkModelIo(first.inputs, first.outputs, model.card, model.files.model);
    } catch (e) {
      await engine.close();
      throw e;
    }
    return engine;
  }

  run(data: BigInt64Array, n: number): Promise<RunResult> {
    if (this.exited) return Promise.reject(new Error('the classifier worker thread has ended'));
    const id = this.nextId++;
    return new Promise<RunResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const msg: ToWorker = { kind: 'run', id, data, n };
      this.worker.postMessage(msg, [data.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const msg: ToWorker = { kind: 'close' };
    this.worker.postMessage(msg);
    await this.exitedPromise;
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

/** Scores windows with an ONNX model; see the module comment for the two modes. */
export class OnnxClassifier implements Classifier {
  /** How many calls can usefully run at once (the detector's maxInFlight should exceed it by one). */
  readonly concurrency: number;
  private readonly buffers: PackBuffers;

  private constructor(
    readonly card: ModelCard,
    private readonly engines: Engine[],
    readonly mode: 'worker' | 'inline',
  ) {
    this.concurrency = engines.length;
    this.buffers = new PackBuffers(card.window, engines.length + 1);
  }

  /** Opens the model; throws ModelError when it breaks the contract. */
  static async open(model: LoadedModel, opts: OnnxClassifierOptions = {}): Promise<OnnxClassifier> {
    const workers = Math.max(1, Math.floor(opts.workers ?? 1));
    const mode = opts.mode ?? (isBun() && opts.workerUrl === undefined ? 'inline' : 'worker');
    if (mode === 'inline') return new OnnxClassifier(model.card, [await InlineEngine.open(model, workers)], mode);
    const url = opts.workerUrl;
    const engines: Engine[] = [];
    try {
      // One at a time: a bad model fails on the first worker, without starting the others.
      for (let i = 0; i < workers; i++) engines.push(await WorkerEngine.open(model, url));
    } catch (e) {
      await Promise.allSettled(engines.map((x) => x.close()));
      throw e;
    }
    return new OnnxClassifier(model.card, engines, mode);
  }

  score(windows: readonly Int32Array[]): Promise<Float32Array> {
    if (windows.length === 0) return Promise.resolve(new Float32Array(0));
    if (this.engines.length === 0) return Promise.reject(new Error('the classifier is closed'));
    const data = packWindows(windows, this.card.window, this.buffers.take(windows.length));
    return this.pick()
      .run(data, windows.length)
      .then(({ scores, input }) => {
        this.buffers.give(input);
        return scores;
      });
  }

  /** Packed input buffers waiting for reuse (for tests and diagnostics). */
  get spareBuffers(): number {
    return this.buffers.spare;
  }

  async close(): Promise<void> {
    const engines = this.engines.splice(0);
    const results = await Promise.allSettled(engines.map((e) => e.close()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** The least busy engine. */
  private pick(): Engine {
    let best = this.engines[0];
    if (best instanceof WorkerEngine) {
      for (const e of this.engines) if (e instanceof WorkerEngine && e.busy < (best as WorkerEngine).busy) best = e;
    }
    return best;
  }
}

/** Opens a model on the calling thread with one intra-op thread (training, evaluation, checks). */
export const openInlineClassifier: ClassifierOpener = (model) => OnnxClassifier.open(model, { mode: 'inline', workers: 1 });
