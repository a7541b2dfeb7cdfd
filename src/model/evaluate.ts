// Evaluating a model folder on normal and attack traces, with ONNX Runtime running the same
// model file the daemon runs and the daemon's own windowing. A trace's score is the maximum
// over its windows (a trace shorter than the window is one partial window).
import type { Abi, Classifier } from '../core/types.js';
import { Tokenizer } from '../syscalls/tokenizer.js';
import { windowsOfTrace } from '../tracker/index.js';
import { loadModel, type ClassifierOpener } from './folder.js';
import { atThreshold, farAtDetection, rocAuc } from './metrics.js';
import { readTraces, type Trace } from './traces.js';
import { tokenize } from './vocabulary.js';
import type { Progress } from './train.js';
import type { ModelCard } from '../core/model-card.js';
import { systemClock, type Clock } from '../core/time.js';

export interface EvaluateOptions {
  model: string;
  normal: string;
  attack: string;
  abi?: Abi;
  /** Windows per ONNX Runtime call (default 64). */
  batch?: number;
  progress?: Progress;
  /** Opens the model for scoring (ONNX Runtime, inline, one thread). */
  openClassifier: ClassifierOpener;
}

export interface GroupMetrics {
  traces: number;
  auc: number;
  far_at_dr90: number;
  precision: number;
  recall: number;
  f1: number;
  fpr: number;
}

export interface EvaluationReport extends Omit<GroupMetrics, 'traces'> {
  model: string;
  threshold: number;
  normal_traces: number;
  attack_traces: number;
  windows: number;
  syscalls: number;
  /** Seconds spent in ONNX Runtime (one thread, `batch` windows a call), and the rates over it. */
  classify_seconds: number;
  windows_per_s: number;
  /** Input syscalls per second of classification (each call is scored in about window/delta windows). */
  syscalls_per_s: number;
  per_type: Record<string, GroupMetrics>;
}

/** Scores each trace (max over its windows) with the classifier, `batch` windows per call. */
export async function scoreTraces(classifier: Classifier, card: ModelCard, traces: readonly Int32Array[], batch: number, onBatch?: (done: number, total: number) => void, clock: Clock = systemClock): Promise<{ scores: Float64Array; windows: number; seconds: number }> {
  const owner: number[] = [];
  const windows: Int32Array[] = [];
  traces.forEach((t, i) => {
    for (const w of windowsOfTrace(t, { window: card.window, delta: card.delta, minWindow: 1 })) {
      windows.push(w);
      owner.push(i);
    }
  });
  const scores = new Float64Array(traces.length).fill(Number.NEGATIVE_INFINITY);
  let seconds = 0;
  for (let i = 0; i < windows.length; i += batch) {
    const part = windows.slice(i, i + batch);
    const t0 = clock.monotonic();
    const got = await classifier.score(part);
    seconds += (clock.monotonic() - t0) / 1000;
    for (let j = 0; j < part.length; j++) {
      const k = owner[i + j];
      if (got[j] > scores[k]) scores[k] = got[j];
    }
    onBatch?.(Math.min(i + batch, windows.length), windows.length);
  }
  return { scores, windows: windows.length, seconds };
}

export function groupMetrics(normal: ArrayLike<number>, attack: ArrayLike<number>, threshold: number): GroupMetrics {
  const t = atThreshold(normal, attack, threshold);
  return {
    traces: attack.length,
    auc: rocAuc(normal, attack),
    far_at_dr90: farAtDetection(normal, attack, 0.9).far,
    precision: t.precision,
    recall: t.recall,
    f1: t.f1,
    fpr: t.fpr,
  };
}

export async function evaluate(opts: EvaluateOptions): Promise<EvaluationReport> {
  const progress = opts.progress ?? (() => undefined);
  const model = await loadModel({ dir: opts.model });
  const tokenizer = Tokenizer.fromMapping(model.mapping);
  const read = async (path: string, phase: string): Promise<Trace[]> => (await readTraces(path, { ...(opts.abi ? { abi: opts.abi } : {}), onFile: (d, t) => progress(phase, d, t) })).traces;
  const normal = await read(opts.normal, 'read normal');
  const attack = await read(opts.attack, 'read attack');
  const classifier = await opts.openClassifier(model);
  const batch = opts.batch ?? 64;
  let n: Awaited<ReturnType<typeof scoreTraces>>;
  let a: Awaited<ReturnType<typeof scoreTraces>>;
  try {
    n = await scoreTraces(classifier, model.card, normal.map((t) => tokenize(tokenizer, t.calls)), batch, (d, t) => progress('score normal', d, t));
    a = await scoreTraces(classifier, model.card, attack.map((t) => tokenize(tokenizer, t.calls)), batch, (d, t) => progress('score attack', d, t));
  } finally {
    await classifier.close();
  }
  const threshold = model.card.threshold;
  const per_type: Record<string, GroupMetrics> = {};
  const types = [...new Set(attack.map((t) => t.type ?? '(top level)'))].sort();
  for (const type of types) {
    const scores = a.scores.filter((_, i) => (attack[i].type ?? '(top level)') === type);
    per_type[type] = groupMetrics(n.scores, scores, threshold);
  }
  const seconds = n.seconds + a.seconds;
  const windows = n.windows + a.windows;
  const syscalls = [...normal, ...attack].reduce((s, t) => s + t.calls.length, 0);
  const { traces: _attacks, ...overall } = groupMetrics(n.scores, a.scores, threshold);
  void _attacks;
  return {
    model: opts.model,
    threshold,
    normal_traces: normal.length,
    attack_traces: attack.length,
    ...overall,
    windows,
    syscalls,
    classify_seconds: Math.round(seconds * 1000) / 1000,
    windows_per_s: seconds > 0 ? Math.round(windows / seconds) : 0,
    syscalls_per_s: seconds > 0 ? Math.round(syscalls / seconds) : 0,
    per_type,
  };
}
