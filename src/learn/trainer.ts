// Runs one training (training.ts) in a worker thread at the lowest priority, so detection on
// the main thread keeps its CPU; `inline` runs it on the calling thread instead (tests, and
// runtimes where the worker cannot start).
import { Worker } from 'node:worker_threads';
import type { Logger } from '../core/logger.js';
import { startWorker } from '../runtime/worker.js';
import type { TrainingJob, TrainingOutcome } from './training.js';

export interface TrainerOptions {
  /** The worker's entry module (it calls runTrainingJob with ONNX Runtime and posts the outcome). */
  entry: URL;
  /** Runs a job on this thread (the fallback where a worker thread cannot start). */
  inline: (job: TrainingJob) => Promise<TrainingOutcome>;
  log: Logger;
  /** 'inline' trains on the calling thread. */
  mode?: 'worker' | 'inline';
}

export class Trainer {
  private worker: Worker | undefined;

  constructor(private readonly o: TrainerOptions) {}

  /** True while a training runs. */
  get busy(): boolean {
    return this.worker !== undefined;
  }

  run(job: TrainingJob): Promise<TrainingOutcome> {
    if (this.o.mode === 'inline') return this.o.inline(job);
    let worker: Worker;
    try {
      worker = startWorker(this.o.entry, job);
    } catch (e) {
      this.o.log.warn({ err: e }, 'cannot start the training worker thread; training on the main thread');
      return this.o.inline(job);
    }
    this.worker = worker;
    return new Promise<TrainingOutcome>((resolve) => {
      let settled = false;
      const done = (o: TrainingOutcome): void => {
        if (settled) return;
        settled = true;
        this.worker = undefined;
        resolve(o);
      };
      worker.once('message', (o: TrainingOutcome) => done(o));
      worker.once('error', (e) => done({ ok: false, reason: `the training thread failed: ${e.message}`, seconds: 0, traces: 0, programs: 0 }));
      worker.once('exit', (code) => done({ ok: false, reason: `the training thread ended (exit code ${code}) before it finished`, seconds: 0, traces: 0, programs: 0 }));
    });
  }

  /** Ends a training in progress (its staging folder is left for the model store to remove). */
  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w !== undefined) await w.terminate();
  }
}
