// One training of the device's model from its baseline, with its validation (the body of the
// training worker thread; DESIGN.md "Programs and the device's own model"):
//
// 1. Read the baseline (bounded: the rolling baseline's size) and order it by time.
// 2. Validate the procedure: train on all but the newest `holdOut` share of traces and
//    score those newest ones (fresh normal behaviour the model never saw), each by its
//    program's profile. Their false-alarm rate must be within the target (at most
//    VALIDATION_SLACK × the target: a small held-out sample is noisy), and, when a device
//    model is in use, not worse than that model's on the same traces (by more than
//    WORSE_BY): a worse model is refused, and the one in use stays.
// 3. Train the model on the whole baseline into the staging folder (the installer makes it
//    the next version).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelCard } from '../core/model-card.js';
import { systemClock, type Clock } from '../core/time.js';
import { scoreTraces } from '../model/evaluate.js';
import { loadModel, type ClassifierOpener } from '../model/folder.js';
import { train } from '../model/train.js';
import type { Trace, TrainingData } from '../model/traces.js';
import { tokenize } from '../model/vocabulary.js';
import { Tokenizer } from '../syscalls/tokenizer.js';
import { readBaseline } from './baseline.js';

/** A held-out false-alarm rate up to this many times the target still counts as within it. */
export const VALIDATION_SLACK = 2;
/** A new model may flag this much more of the held-out traces than the one in use before it counts as worse. */
export const WORSE_BY = 0.005;

export interface TrainingJob {
  dbPath: string;
  /** Where the model is written (ModelStore.staging()). */
  staging: string;
  name: string;
  window: number;
  delta: number;
  minWindow?: number;
  targetFpr: number;
  seed: number;
  minProgramCalls?: number;
  /** Share of the newest traces held out for validation (default 0.1). */
  holdOut?: number;
  /** The device model in use (its folder), to compare against; absent while learning. */
  current?: string;
}

export interface TrainingOutcome {
  ok: boolean;
  /** Why the model was refused or the training failed. */
  reason?: string;
  card?: ModelCard;
  seconds: number;
  traces: number;
  programs: number;
  validation?: { traces: number; fpr: number; currentFpr?: number };
}

/** Traces flagged among `traces` by the model in `dir` (each by its profile; programs it never saw are left out). */
async function heldOutFpr(dir: string, traces: readonly Trace[], openClassifier: ClassifierOpener): Promise<{ fpr: number; traces: number }> {
  const model = await loadModel({ dir });
  const programs = model.card.programs;
  const known = programs === undefined ? traces : traces.filter((t) => t.program === undefined || programs[t.program] !== undefined);
  if (known.length === 0) return { fpr: 0, traces: 0 };
  const tokenizer = Tokenizer.fromMapping(model.mapping);
  const classifier = await openClassifier(model);
  try {
    const profiles = programs === undefined ? undefined : Int32Array.from(known, (t) => (t.program === undefined ? 0 : (programs[t.program] ?? 0)));
    const { scores } = await scoreTraces(classifier, model.card, known.map((t) => tokenize(tokenizer, t.calls)), 64, undefined, systemClock, profiles);
    let flagged = 0;
    for (const s of scores) if (s >= model.card.threshold) flagged++;
    return { fpr: flagged / known.length, traces: known.length };
  } finally {
    await classifier.close();
  }
}

export async function runTrainingJob(job: TrainingJob, openClassifier: ClassifierOpener, clock: Clock = systemClock): Promise<TrainingOutcome> {
  const started = clock.monotonic();
  const seconds = (): number => Math.round((clock.monotonic() - started) / 100) / 10;
  let data: TrainingData;
  try {
    data = await readBaseline(job.dbPath);
  } catch (e) {
    return { ok: false, reason: (e as Error).message, seconds: seconds(), traces: 0, programs: 0 };
  }
  const programs = new Set(data.traces.flatMap((t) => (t.program === undefined ? [] : [t.program]))).size;
  const base = { traces: data.traces.length, programs };
  const options = { window: job.window, delta: job.delta, ...(job.minWindow === undefined ? {} : { minWindow: job.minWindow }), targetFpr: job.targetFpr, seed: job.seed, ...(job.minProgramCalls === undefined ? {} : { minProgramCalls: job.minProgramCalls }), openClassifier, clock };
  const heldCount = Math.max(1, Math.floor(data.traces.length * (job.holdOut ?? 0.1)));
  if (data.traces.length - heldCount < 10) return { ok: false, reason: `the baseline holds ${data.traces.length} traces; at least ${10 + heldCount} are needed to train and validate`, seconds: seconds(), ...base };
  const older = data.traces.slice(0, data.traces.length - heldCount);
  const newest = data.traces.slice(data.traces.length - heldCount);
  const probe = join(job.staging, '.validation');
  try {
    // 2. Validation: a model of the older traces, judged on the newest.
    await train({ ...options, data: { ...data, traces: older }, out: probe, name: `${job.name}-validation` });
    const mine = await heldOutFpr(probe, newest, openClassifier);
    const current = job.current === undefined ? undefined : await heldOutFpr(job.current, newest, openClassifier);
    const validation = { traces: mine.traces, fpr: mine.fpr, ...(current === undefined ? {} : { currentFpr: current.fpr }) };
    rmSync(probe, { recursive: true, force: true });
    if (mine.fpr > job.targetFpr * VALIDATION_SLACK) {
      return { ok: false, reason: `it flags ${(mine.fpr * 100).toFixed(1)}% of ${mine.traces} newest normal traces it did not learn from, above the target ${(job.targetFpr * 100).toFixed(1)}% (× ${VALIDATION_SLACK})`, seconds: seconds(), validation, ...base };
    }
    if (current !== undefined && mine.fpr > current.fpr + WORSE_BY) {
      return { ok: false, reason: `it flags ${(mine.fpr * 100).toFixed(1)}% of the newest normal traces, the model in use ${(current.fpr * 100).toFixed(1)}%: worse, kept the model in use`, seconds: seconds(), validation, ...base };
    }
    // 3. The model of the whole baseline.
    const result = await train({ ...options, data, out: job.staging, name: job.name });
    return { ok: true, card: result.card, seconds: seconds(), validation, ...base };
  } catch (e) {
    return { ok: false, reason: `training failed: ${(e as Error).message}`, seconds: seconds(), ...base };
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
