// Evaluating a model folder on normal and attack traces, with ONNX Runtime running the same
// model file the daemon runs and the daemon's own windowing. A trace's score is the maximum
// over its windows (a trace shorter than the window is one partial window), each trace scored
// by its program's profile as the daemon does. With a model that knows programs, a trace of a
// program it never saw is a new_program alert: it counts as flagged whatever its score.
//
// Labels (a recording's labels.json) name the attack processes of the attack recording; its
// other processes are normal. An attack's unit is then its instance (one run of one attack
// behaviour, all its processes): detected when any of its processes is.
import { readFile } from 'node:fs/promises';
import type { Abi, Classifier } from '../core/types.js';
import { Tokenizer } from '../syscalls/tokenizer.js';
import { windowsOfTrace } from '../tracker/index.js';
import { loadModel, type ClassifierOpener } from './folder.js';
import { atThreshold, farAtDetection, rocAuc } from './metrics.js';
import { DataError, readTraces, type Trace } from './traces.js';
import { tokenize } from './vocabulary.js';
import type { Progress } from './train.js';
import type { ModelCard } from '../core/model-card.js';
import { systemClock, type Clock } from '../core/time.js';

export interface EvaluateOptions {
  model: string;
  normal: string;
  attack: string;
  abi?: Abi;
  /** A labels file (JSON `{ "attacks": { exec_id: { type, instance } } }`) for the attack recording. */
  labels?: string;
  /** `folder`: a trace file's first-level folder names its program. */
  programBy?: 'folder';
  /** Windows per ONNX Runtime call (default 64). */
  batch?: number;
  progress?: Progress;
  /** Opens the model for scoring (ONNX Runtime, inline, one thread). */
  openClassifier: ClassifierOpener;
}

export interface GroupMetrics {
  /** Attack units of the group (traces, or instances with labels). */
  traces: number;
  auc: number;
  far_at_dr90: number;
  precision: number;
  recall: number;
  f1: number;
  fpr: number;
}

/** How a model fares on one program's normal traces (and its attack traces, if any). */
export interface ProgramMetrics {
  profile: number;
  normal_traces: number;
  /** Normal traces flagged at the threshold. */
  false_alarms: number;
  fpr: number;
  /** Highest normal score over the threshold (1 = at the threshold). */
  max_normal: number;
  attack_traces: number;
  attack_flagged: number;
  /** A program the model never saw (each of its traces is a new_program alert). */
  new: boolean;
}

export interface EvaluationReport extends Omit<GroupMetrics, 'traces'> {
  model: string;
  threshold: number;
  normal_traces: number;
  attack_traces: number;
  /** Attack instances (with labels; else the attack traces). */
  attack_units: number;
  /** Traces of programs the model never saw: normal ones (false alarms) and attack ones. */
  new_program_normal: number;
  new_program_attack: number;
  windows: number;
  syscalls: number;
  /** Seconds spent in ONNX Runtime (one thread, `batch` windows a call), and the rates over it. */
  classify_seconds: number;
  windows_per_s: number;
  /** Input syscalls per second of classification (each call is scored in about window/delta windows). */
  syscalls_per_s: number;
  per_type: Record<string, GroupMetrics>;
  /** Only for models that know programs. */
  per_program?: Record<string, ProgramMetrics>;
  /** The same figures from the windows' scores alone (new programs scored by the fallback, not flagged for being new). */
  scores_alone?: { auc: number; far_at_dr90: number; recall: number; fpr: number };
}

interface Labels {
  attacks: Record<string, { type: string; instance: string }>;
}

async function readLabels(path: string): Promise<Labels> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new DataError(`${path}: cannot read the labels (${(e as Error).message}); give the labels.json of the attack recording`);
  }
  const attacks = (raw as { attacks?: unknown })?.attacks;
  if (typeof attacks !== 'object' || attacks === null) throw new DataError(`${path}: the labels have no "attacks" object of exec_id → { type, instance }`);
  for (const [id, v] of Object.entries(attacks as Record<string, unknown>)) {
    const l = v as { type?: unknown; instance?: unknown };
    if (typeof l?.type !== 'string' || typeof l.instance !== 'string') throw new DataError(`${path}: the label of ${id.slice(0, 40)} needs a "type" and an "instance"`);
  }
  return { attacks: attacks as Labels['attacks'] };
}

/** Scores each trace (max over its windows, by its profile) with the classifier, `batch` windows per call. */
export async function scoreTraces(classifier: Classifier, card: ModelCard, traces: readonly Int32Array[], batch: number, onBatch?: (done: number, total: number) => void, clock: Clock = systemClock, profiles?: Int32Array): Promise<{ scores: Float64Array; windows: number; seconds: number }> {
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
    const partProfiles = profiles === undefined ? undefined : Int32Array.from(owner.slice(i, i + batch), (k) => profiles[k]);
    const t0 = clock.monotonic();
    const got = await classifier.score(part, partProfiles);
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

/** An attack unit: the traces of one instance (or one trace without labels), and its type. */
interface AttackUnit {
  type: string;
  traces: number[];
}

export async function evaluate(opts: EvaluateOptions): Promise<EvaluationReport> {
  const progress = opts.progress ?? (() => undefined);
  const model = await loadModel({ dir: opts.model });
  const card = model.card;
  const tokenizer = Tokenizer.fromMapping(model.mapping);
  const read = async (path: string, phase: string): Promise<Trace[]> =>
    (await readTraces(path, { ...(opts.abi ? { abi: opts.abi } : {}), ...(opts.programBy ? { programBy: opts.programBy } : {}), onFile: (d, t) => progress(phase, d, t) })).traces;
  const labels = opts.labels === undefined ? undefined : await readLabels(opts.labels);
  const normal = await read(opts.normal, 'read normal');
  const attackFile = await read(opts.attack, 'read attack');
  const attack: Trace[] = [];
  const units: AttackUnit[] = [];
  if (labels === undefined) {
    for (const t of attackFile) {
      units.push({ type: t.type ?? '(top level)', traces: [attack.length] });
      attack.push(t);
    }
  } else {
    const byInstance = new Map<string, AttackUnit>();
    for (const t of attackFile) {
      const label = t.execId === undefined ? undefined : labels.attacks[t.execId];
      if (label === undefined) {
        normal.push(t);
        continue;
      }
      let unit = byInstance.get(label.instance);
      if (unit === undefined) {
        byInstance.set(label.instance, (unit = { type: label.type, traces: [] }));
        units.push(unit);
      }
      unit.traces.push(attack.length);
      attack.push(t);
    }
    if (units.length === 0) throw new DataError(`${opts.labels}: none of its attack processes is in ${opts.attack}; give the labels recorded with it`);
  }
  const programs = card.programs;
  const profileOf = (t: Trace): number => (programs === undefined || t.program === undefined ? 0 : (programs[t.program] ?? 0));
  const isNew = (t: Trace): boolean => programs !== undefined && t.program !== undefined && programs[t.program] === undefined;
  const classifier = await opts.openClassifier(model);
  const batch = opts.batch ?? 64;
  let n: Awaited<ReturnType<typeof scoreTraces>>;
  let a: Awaited<ReturnType<typeof scoreTraces>>;
  try {
    const score = (traces: Trace[], phase: string) =>
      scoreTraces(classifier, card, traces.map((t) => tokenize(tokenizer, t.calls)), batch, (d, t) => progress(phase, d, t), systemClock, programs === undefined ? undefined : Int32Array.from(traces, profileOf));
    n = await score(normal, 'score normal');
    a = await score(attack, 'score attack');
  } finally {
    await classifier.close();
  }
  const threshold = card.threshold;
  const unitsOf = (scores: Float64Array): Float64Array => Float64Array.from(units, (u) => Math.max(...u.traces.map((i) => scores[i])));
  const alone = programs === undefined ? undefined : groupMetrics(n.scores.slice(), unitsOf(a.scores), threshold);
  // A new program is an alert of its own: flagged whatever its windows scored.
  normal.forEach((t, i) => isNew(t) && (n.scores[i] = Number.POSITIVE_INFINITY));
  attack.forEach((t, i) => isNew(t) && (a.scores[i] = Number.POSITIVE_INFINITY));
  const unitScores = unitsOf(a.scores);
  const per_type: Record<string, GroupMetrics> = {};
  for (const type of [...new Set(units.map((u) => u.type))].sort()) {
    per_type[type] = groupMetrics(n.scores, unitScores.filter((_, i) => units[i].type === type), threshold);
  }
  const seconds = n.seconds + a.seconds;
  const windows = n.windows + a.windows;
  const syscalls = [...normal, ...attack].reduce((s, t) => s + t.calls.length, 0);
  const { traces: _units, ...overall } = groupMetrics(n.scores, unitScores, threshold);
  void _units;
  const report: EvaluationReport = {
    model: opts.model,
    threshold,
    normal_traces: normal.length,
    attack_traces: attack.length,
    attack_units: units.length,
    new_program_normal: normal.filter(isNew).length,
    new_program_attack: attack.filter(isNew).length,
    ...overall,
    windows,
    syscalls,
    classify_seconds: Math.round(seconds * 1000) / 1000,
    windows_per_s: seconds > 0 ? Math.round(windows / seconds) : 0,
    syscalls_per_s: seconds > 0 ? Math.round(syscalls / seconds) : 0,
    per_type,
  };
  if (programs !== undefined) report.per_program = perProgram(normal, n.scores, attack, a.scores, threshold, profileOf, isNew);
  if (alone !== undefined) report.scores_alone = { auc: alone.auc, far_at_dr90: alone.far_at_dr90, recall: alone.recall, fpr: alone.fpr };
  return report;
}

function perProgram(normal: readonly Trace[], ns: Float64Array, attack: readonly Trace[], as: Float64Array, threshold: number, profileOf: (t: Trace) => number, isNew: (t: Trace) => boolean): Record<string, ProgramMetrics> {
  const out = new Map<string, ProgramMetrics>();
  const entry = (t: Trace): ProgramMetrics => {
    const key = t.program ?? '(unnamed)';
    let m = out.get(key);
    if (m === undefined) out.set(key, (m = { profile: profileOf(t), normal_traces: 0, false_alarms: 0, fpr: 0, max_normal: 0, attack_traces: 0, attack_flagged: 0, new: isNew(t) }));
    return m;
  };
  normal.forEach((t, i) => {
    const m = entry(t);
    m.normal_traces++;
    if (ns[i] >= threshold) m.false_alarms++;
    if (Number.isFinite(ns[i])) m.max_normal = Math.max(m.max_normal, Math.round((ns[i] / threshold) * 1000) / 1000);
  });
  attack.forEach((t, i) => {
    const m = entry(t);
    m.attack_traces++;
    if (as[i] >= threshold) m.attack_flagged++;
  });
  for (const m of out.values()) m.fpr = m.normal_traces === 0 ? 0 : m.false_alarms / m.normal_traces;
  return Object.fromEntries([...out].sort((x, y) => (x[0] < y[0] ? -1 : 1)));
}
