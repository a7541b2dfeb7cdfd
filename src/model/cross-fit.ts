// Cross-fitted calibration scores: the traces are dealt into folds; each fold is scored by a
// model trained on the other folds. Folds are independent, so with `jobs` > 1 they train in
// worker threads (fold-worker.ts) while the caller goes on (e.g. with the final model); the
// scores are the same bytes either way, since every fold trains with the same inputs.
import { windowsOfTrace } from '../tracker/index.js';
import { startWorker } from '../runtime/worker.js';
import { familyByName } from './families/index.js';
import type { FamilyOptions, WindowScorer } from './families/family.js';

/** A trace's score: the maximum over its windows as the daemon cuts them (short trace: one partial window). */
export function traceScore(scorer: WindowScorer, tokens: Int32Array, window: number, delta: number, profile = 0): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const w of windowsOfTrace(tokens, { window, delta, minWindow: 1 })) {
    const s = scorer.score(w, profile);
    if (s > max) max = s;
  }
  return max;
}

/** One fold's work: train on the traces outside fold `f`, score those inside it. Plain data (a worker gets a copy). */
export interface FoldJob {
  family: string;
  traces: Int32Array[];
  fold: Int32Array;
  f: number;
  vocabulary: number;
  options: Omit<FamilyOptions, 'onEpoch'>;
  window: number;
  delta: number;
}

/** Scores of the traces of fold `f`, in trace order. */
export function heldOutScores(job: FoldJob, onEpoch?: (epoch: number) => void): Float64Array {
  const family = familyByName(job.family);
  if (family === undefined) throw new RangeError(`unknown model family "${job.family}"`);
  const model = family.train(
    job.traces.filter((_, i) => job.fold[i] !== job.f),
    job.vocabulary,
    { ...job.options, ...(onEpoch === undefined ? {} : { onEpoch }) },
  );
  const scorer = model.scorer();
  const out: number[] = [];
  job.traces.forEach((t, i) => {
    if (job.fold[i] === job.f) out.push(traceScore(scorer, t, job.window, job.delta));
  });
  return Float64Array.from(out);
}

export type FoldResult = { scores: Float64Array } | { error: string; range: boolean };

/** Runs one fold in a worker thread. */
export function heldOutScoresInWorker(job: FoldJob): Promise<Float64Array> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(new URL(import.meta.url.endsWith('.ts') ? './fold-worker.ts' : './fold-worker.js', import.meta.url), job);
    let settled = false;
    worker.once('message', (m: FoldResult) => {
      settled = true;
      if ('scores' in m) resolve(m.scores);
      else reject(m.range ? new RangeError(m.error) : new Error(m.error));
      void worker.terminate();
    });
    worker.once('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`a calibration worker stopped (exit code ${code}) before it sent its scores`));
    });
  });
}

/** Runs the jobs on at most `parallel` worker threads; resolves with each job's scores in job order. */
export async function runFoldsInWorkers(jobs: readonly FoldJob[], parallel: number, onDone: (done: number) => void): Promise<Float64Array[]> {
  const results: Float64Array[] = new Array<Float64Array>(jobs.length);
  let next = 0;
  let done = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await heldOutScoresInWorker(jobs[i]);
      onDone(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, lane));
  return results;
}
