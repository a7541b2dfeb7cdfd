// Where a session runs: inline, on the calling thread, or in a worker thread (the main
// thread then only packs tokens and transfers buffers). onnxruntime-node runs a session
// synchronously on the calling JS thread (its `run()` only defers to the next tick), so on
// the main thread a batch blocks the event loop for as long as the model takes.
import { Worker, parentPort, workerData } from 'node:worker_threads';
import type { InferenceSession } from 'onnxruntime-node';
import { ModelError, type LoadedModel } from '../../model/folder.js';
import { prepareOrt } from '../../runtime/ort.js';
import { startWorker } from '../../runtime/worker.js';
import { checkModelIo, ioInfo, type IoInfo, type ModelIo } from './io.js';
import { loadOrt, openSession, runSession, type Ort, type RunRequest } from './session.js';

/** What an engine gives back: the values, and the input buffer for reuse once it is free. */
export interface RunResult {
  values: Float32Array;
  input: ArrayBuffer;
}

/** Runs one session; what OnnxClassifier delegates to in each mode. */
export interface Engine {
  readonly io: ModelIo;
  /** Runs in flight. */
  readonly busy: number;
  run(req: RunRequest): Promise<RunResult>;
  close(): Promise<void>;
}

export class InlineEngine implements Engine {
  busy = 0;

  private constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    private readonly width: number,
    readonly io: ModelIo,
  ) {}

  static async open(model: LoadedModel, threads: number): Promise<InlineEngine> {
    const ort = await loadOrt();
    const session = await openSession(ort, model.modelBytes, threads, model.files.model);
    try {
      const io = checkModelIo(ioInfo(session.inputMetadata), ioInfo(session.outputMetadata), model.card, model.files.model);
      return new InlineEngine(ort, session, model.card.window, io);
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  async run(req: RunRequest): Promise<RunResult> {
    this.busy++;
    try {
      return { values: await runSession(this.ort, this.session, req, this.width), input: req.data.buffer as ArrayBuffer };
    } finally {
      this.busy--;
    }
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
type ToWorker = { kind: 'run'; id: number; req: RunRequest } | { kind: 'close' };
type FromWorker =
  | { kind: 'ready'; inputs: IoInfo[]; outputs: IoInfo[] }
  | { kind: 'failed'; message: string; model: boolean }
  | { kind: 'result'; id: number; values: Float32Array; input: ArrayBuffer }
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
      case 'run': {
        // The input buffer goes back with the answer, for the next batch.
        const input = m.req.data.buffer as ArrayBuffer;
        runSession(ort, session, m.req, init.width).then(
          (values) => post({ kind: 'result', id: m.id, values, input }, [values.buffer as ArrayBuffer, input]),
          (e: unknown) => post({ kind: 'error', id: m.id, message: (e as Error).message }),
        );
        break;
      }
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

/** Starts a worker thread on `url`, or on onnx-worker beside the classifier. */
function startClassifierWorker(init: WorkerInit, url: URL | string | undefined): Worker {
  if (url !== undefined) return new Worker(url, { workerData: init });
  return startWorker(new URL(import.meta.url.endsWith('.ts') ? '../onnx-worker.ts' : '../onnx-worker.js', import.meta.url), init);
}

/** One worker thread holding one session. */
export class WorkerEngine implements Engine {
  private readonly pending = new Map<number, { resolve: (r: RunResult) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private exited = false;
  private readonly exitedPromise: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    readonly io: ModelIo,
  ) {
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
      if (m.kind === 'result') p.resolve({ values: m.values, input: m.input });
      else p.reject(new Error(m.message));
    });
  }

  get busy(): number {
    return this.pending.size;
  }

  /** True once the thread has ended (crashed, or closed). */
  get dead(): boolean {
    return this.exited;
  }

  static async open(model: LoadedModel, url: URL | string | undefined): Promise<WorkerEngine> {
    const init: WorkerInit = { bytes: model.modelBytes, width: model.card.window, source: model.files.model };
    // A worker's process.env is a copy; the native library reads the real environment,
    // so telemetry is switched off here, in the main thread, before any worker loads it.
    prepareOrt();
    const worker = startClassifierWorker(init, url);
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
    let io: ModelIo;
    try {
      io = checkModelIo(first.inputs, first.outputs, model.card, model.files.model);
    } catch (e) {
      await new WorkerEngine(worker, { profiles: false, surprisal: false }).close();
      throw e;
    }
    return new WorkerEngine(worker, io);
  }

  run(req: RunRequest): Promise<RunResult> {
    if (this.exited) return Promise.reject(new Error('the classifier worker thread has ended'));
    const id = this.nextId++;
    return new Promise<RunResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const msg: ToWorker = { kind: 'run', id, req };
      const transfer = [req.data.buffer as ArrayBuffer];
      if (req.profiles !== undefined) transfer.push(req.profiles.buffer as ArrayBuffer);
      this.worker.postMessage(msg, transfer);
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
