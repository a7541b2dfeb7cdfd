// Training a model folder from normal traces.
//
// 1. Read the traces; the vocabulary is every syscall name in them (ids from 2).
// 2. Calibrate by cross-fitting: the traces are dealt into `folds` seeded folds; each fold is
//    scored by a model trained on the other folds, so every training trace gets a score from
//    a model that never saw it. A trace's score is the maximum over the daemon's windows of it
//    (a short trace is one partial window). The threshold is the lowest score that flags at
//    most `targetFpr` of these held-out normal traces: a per-process false-alarm rate.
// 3. Train the final model on all traces, export ONNX, write model.onnx, syscalls.csv and
//    model.json, and check that ONNX Runtime gives the TypeScript scores (within 1e-4).
// When the data names programs and the family has profiles, step 2 is per profile
// (calibrate.ts): one threshold per program with enough data, held-out units cut from long
// traces, and the graph divides each score by its profile's threshold (the card's threshold
// is then 1).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Abi } from '../core/types.js';
import { formatMapping } from '../syscalls/mapping.js';
import { Tokenizer } from '../syscalls/tokenizer.js';
import { windowsOfTrace } from '../tracker/index.js';
import { heldOutScores, runFoldsInWorkers, traceScore, type FoldJob } from './cross-fit.js';
import { isBun } from '../runtime/platform.js';
import { CARD_FILE, MAPPING_FILE, MODEL_FILE, loadModel, type ClassifierOpener } from './folder.js';
import { dataHash } from './data-hash.js';
import type { TrainingData } from './traces.js';
import { familyByName, FAMILIES } from './families/index.js';
import { unpadded, type FamilyOptions, type TrainedModel, type WindowScorer } from './families/family.js';
import { assignProfiles, profileThreshold, segments, type ThresholdRule } from './calibrate.js';
import { thresholdForFpr } from './metrics.js';
import { foldsOf } from './random.js';
import { DataError, readTraces } from './traces.js';
import { buildMapping, tokenize } from './vocabulary.js';
import type { ModelCard, ProfileCard } from '../core/model-card.js';
import { type Clock, systemClock } from '../core/time.js';

export const TRAIN_DEFAULTS = {
  family: 'ngram',
  window: 1024,
  delta: 256,
  minWindow: 16,
  seed: 1,
  targetFpr: 0.05,
  folds: 5,
  minProgramCalls: 2000,
} as const;

/** Largest difference allowed between ONNX Runtime's and the TypeScript scores. */
export const PARITY_TOLERANCE = 1e-4;

export type Progress = (phase: string, done: number, total: number) => void;

export interface TrainOptions {
  /** A path to read traces from (see traces.ts), or data already read (e.g. the device's baseline). */
  data: string | TrainingData;
  /** How the card names the data (default: `data`); e.g. the path as the user gave it. */
  dataLabel?: string;
  out: string;
  abi?: Abi;
  /** `folder`: a trace file's first-level folder names its program. */
  programBy?: 'folder';
  family?: string;
  order?: number;
  /** Neural families: state width; passes over the data. */
  hidden?: number;
  epochs?: number;
  /** Ensemble: members, e.g. `gru:64,ngram:5`. */
  members?: string;
  window?: number;
  delta?: number;
  minWindow?: number;
  seed?: number;
  targetFpr?: number;
  folds?: number;
  /** Calibration folds trained at once, in worker threads (default 1: one after the other, on this thread). */
  jobs?: number;
  name?: string;
  /** Creation time for the card and phase timings (default: the system clock). */
  clock?: Clock;
  progress?: Progress;
  /** Learn one profile per program when the data names programs (default true). */
  programs?: boolean;
  /** Calls a program needs in the training data for a profile of its own (default 2000). */
  minProgramCalls?: number;
  /** Scores the written folder for the parity check (ONNX Runtime). */
  openClassifier: ClassifierOpener;
}

export interface TrainResult {
  card: ModelCard;
  dir: string;
  /** Largest |ORT - TypeScript| over the checked windows. */
  parityMaxDiff: number;
}

function checkRange(name: string, v: number, min: number, max: number, integer = true): void {
  if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new DataError(`${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${v}`);
  }
}

/** Options a family refuses (RangeError) are the user's data problem. */
function asDataError(e: unknown): unknown {
  return e instanceof RangeError ? new DataError(e.message) : e;
}

function guard<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    throw asDataError(e);
  }
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const familyName = opts.family ?? TRAIN_DEFAULTS.family;
  const family = familyByName(familyName);
  if (family === undefined) throw new DataError(`unknown model family "${familyName}"; use one of ${FAMILIES.map((f) => f.name).join(', ')}`);
  const window = opts.window ?? TRAIN_DEFAULTS.window;
  const delta = opts.delta ?? TRAIN_DEFAULTS.delta;
  const minWindow = opts.minWindow ?? Math.min(TRAIN_DEFAULTS.minWindow, window);
  const seed = opts.seed ?? TRAIN_DEFAULTS.seed;
  const targetFpr = opts.targetFpr ?? TRAIN_DEFAULTS.targetFpr;
  const folds = opts.folds ?? TRAIN_DEFAULTS.folds;
  const jobs = opts.jobs ?? 1;
  checkRange('window', window, 2, 65536);
  checkRange('delta', delta, 1, window);
  checkRange('min-window', minWindow, 1, window);
  checkRange('seed', seed, 0, 2 ** 32 - 1);
  checkRange('target-fpr', targetFpr, 0, 1, false);
  checkRange('folds', folds, 2, 100);
  checkRange('jobs', jobs, 1, 64);
  const progress = opts.progress ?? (() => undefined);
  const clock = opts.clock ?? systemClock;
  const started = clock.monotonic();
  const cpuStarted = process.cpuUsage();

  const data = typeof opts.data === 'string' ? await readTrainingData(opts.data, opts.abi, progress, opts.programBy) : opts.data;
  const label = opts.dataLabel ?? data.label;
  if (data.traces.length < 2) throw new DataError(`${label} holds ${data.traces.length} trace; training needs at least 2 (one to learn from, one to calibrate the threshold on)`);
  const mapping = buildMapping(data.traces);
  if (mapping.size === 0) throw new DataError(`${label}: no trace holds a syscall the ${opts.abi ?? ''} table knows; check --abi`);
  const tokenizer = Tokenizer.fromMapping(mapping);
  const vocabulary = tokenizer.vocabulary;
  const traces = data.traces.map((t) => tokenize(tokenizer, t.calls));
  const syscalls = traces.reduce((s, t) => s + t.length, 0);
  const readSeconds = (clock.monotonic() - started) / 1000;
  const familyOpts: FamilyOptions = {
    window,
    seed,
    ...(opts.order === undefined ? {} : { order: opts.order }),
    ...(opts.hidden === undefined ? {} : { hidden: opts.hidden }),
    ...(opts.epochs === undefined ? {} : { epochs: opts.epochs }),
    ...(opts.members === undefined ? {} : { members: opts.members }),
  };
  const epochs = (phase: string) => (epoch: number): void => progress(phase, epoch, familyOpts.epochs ?? epoch);
  const fit = (part: readonly Int32Array[], profiles?: FamilyOptions['profiles'], phase = 'epochs'): TrainedModel =>
    guard(() => family.train(part, vocabulary, { ...familyOpts, onEpoch: epochs(phase), ...(profiles === undefined ? {} : { profiles }) }));
  const k = Math.min(folds, traces.length);
  const calStart = clock.monotonic();
  const named = family.profiles && opts.programs !== false && data.traces.some((t) => t.program !== undefined);
  const assignment = named ? assignProfiles(data.traces.map((t) => t.program), traces.map((t) => t.length), opts.minProgramCalls ?? TRAIN_DEFAULTS.minProgramCalls) : undefined;
  const profiled = assignment !== undefined && assignment.count > 1;

  let threshold: number;
  let heldOutFpr: number;
  let thresholds: Float64Array | undefined;
  let profileCards: ProfileCard[] | undefined;
  let units = traces.length;
  let model: TrainedModel | undefined;
  let fitSeconds = 0;
  if (!profiled) {
    // Cross-fitted calibration scores, one per trace; with jobs > 1 the folds train in
    // worker threads while this thread trains the final model.
    const fold = foldsOf(traces.length, k, seed);
    const held = new Float64Array(traces.length);
    const foldJobs: FoldJob[] = Array.from({ length: k }, (_, f) => ({ family: family.name, traces, fold, f, vocabulary, options: familyOpts, window, delta }));
    const inWorkers = jobs > 1 && !isBun() ? runFoldsInWorkers(foldJobs, jobs, (done) => progress('calibrate', done, k)) : undefined;
    // A failure is thrown where the workers' scores are awaited, below.
    inWorkers?.catch(() => undefined);
    const foldScores: Float64Array[] = [];
    if (inWorkers === undefined) {
      for (let f = 0; f < k; f++) {
        foldScores.push(guard(() => heldOutScores(foldJobs[f], epochs(`fold ${f + 1}/${k} epochs`))));
        progress('calibrate', f + 1, k);
      }
    } else {
      const fitStart = clock.monotonic();
      model = fit(traces, undefined, 'final epochs');
      fitSeconds = (clock.monotonic() - fitStart) / 1000;
      foldScores.push(
        ...(await inWorkers.catch((e: unknown) => {
          throw asDataError(e);
        })),
      );
    }
    for (let f = 0; f < k; f++) {
      let j = 0;
      for (let i = 0; i < traces.length; i++) if (fold[i] === f) held[i] = foldScores[f][j++];
    }
    threshold = thresholdForFpr(held, targetFpr);
    let flagged = 0;
    for (const s of held) if (s >= threshold) flagged++;
    heldOutFpr = flagged / traces.length;
  } else {
    const cal = calibrateProfiles({ traces, of: assignment.of, count: assignment.count, fit, k, seed, window, delta, targetFpr, segmentCalls: window + 15 * delta, progress });
    thresholds = cal.thresholds;
    units = cal.units;
    heldOutFpr = cal.heldOutFpr;
    threshold = 1;
    profileCards = assignment.names.map((program, id) => ({ program, ...cal.profiles[id] }));
  }
  // With worker threads, the final model trained while the folds did (calibration's wall time includes it).
  const calibrateSeconds = (clock.monotonic() - calStart) / 1000;

  if (model === undefined) {
    const fitStart = clock.monotonic();
    model = profiled ? fit(traces, { of: assignment.of, count: assignment.count }, 'final epochs') : fit(traces, undefined, 'final epochs');
    fitSeconds = (clock.monotonic() - fitStart) / 1000;
  }
  progress('fit', 1, 1);
  const onnx = model.toOnnx(window, { metadata: { vocabulary: String(vocabulary) }, ...(thresholds === undefined ? {} : { thresholds }) });

  const card: ModelCard = {
    name: opts.name ?? `${family.name}-${window}`,
    family: family.name,
    window,
    delta,
    threshold,
    vocabulary,
    minWindow,
    training: {
      data: label,
      sha256: data.sha256,
      traces: traces.length,
      syscalls,
      abi: data.abi,
      seed,
      targetFpr,
    },
    metrics: {
      ...model.describe(),
      folds: k,
      ...(profiled ? { calibrationUnits: units } : {}),
      heldOutFpr,
      readSeconds: round(readSeconds),
      fitSeconds: round(fitSeconds),
      calibrateSeconds: round(calibrateSeconds),
      trainSeconds: round((clock.monotonic() - started) / 1000),
      cpuSeconds: round(cpuSecondsSince(cpuStarted)),
      jobs,
      modelBytes: onnx.length,
    },
    created: new Date(clock.now()).toISOString(),
  };
  if (assignment !== undefined) card.programs = assignment.programs;
  if (profileCards !== undefined) card.profiles = profileCards;

  const cannot = (what: string) => (e: NodeJS.ErrnoException): never => {
    throw new DataError(`cannot ${what} (${e.code ?? e.message}); choose another --out folder`);
  };
  await mkdir(opts.out, { recursive: true }).catch(cannot(`create the output folder ${opts.out}`));
  const put = (file: string, body: string | Uint8Array): Promise<void> => writeFile(join(opts.out, file), body).catch(cannot(`write ${join(opts.out, file)}`));
  const writeCard = (): Promise<void> => put(CARD_FILE, `${JSON.stringify(card, null, 2)}\n`);
  await put(MODEL_FILE, onnx);
  await put(MAPPING_FILE, formatMapping(mapping));
  await writeCard();
  const parityMaxDiff = await checkParity(opts.openClassifier, opts.out, model.scorer(), traces, profiled ? assignment.of : undefined, thresholds, window, delta);
  card.metrics.parityMaxDiff = parityMaxDiff;
  await writeCard();
  progress('write', 1, 1);
  return { card, dir: opts.out, parityMaxDiff };
}

/** Reads trace files or a recording below `path`, with the data hash for the card. */
export async function readTrainingData(path: string, abi: Abi | undefined, progress: Progress = () => undefined, programBy?: 'folder'): Promise<TrainingData> {
  const set = await readTraces(path, { ...(abi ? { abi } : {}), ...(programBy ? { programBy } : {}), onFile: (d, t) => progress('read', d, t) });
  return { label: path, traces: set.traces, sha256: await dataHash(set.root, set.files), abi: abi ?? 'names' };
}

/** CPU time of the whole process (every thread) since `from`. */
function cpuSecondsSince(from: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

interface Calibration {
  /** Raw-score threshold per profile. */
  thresholds: Float64Array;
  profiles: { traces: number; syscalls: number; heldOut: number; threshold: number; rule: ThresholdRule }[];
  units: number;
  /** Held-out units flagged by their profile's threshold. */
  heldOutFpr: number;
}

/**
 * Cross-fitted per-profile calibration (calibrate.ts): units are dealt into `k` seeded folds;
 * each fold is scored, by its own profile and by the fallback, with a model trained on the
 * other folds' units.
 */
function calibrateProfiles(o: {
  traces: readonly Int32Array[];
  of: Int32Array;
  count: number;
  fit: (part: readonly Int32Array[], profiles?: FamilyOptions['profiles']) => TrainedModel;
  k: number;
  seed: number;
  window: number;
  delta: number;
  targetFpr: number;
  segmentCalls: number;
  progress: Progress;
}): Calibration {
  const units: Int32Array[] = [];
  const unitOf: number[] = [];
  const profiles = Array.from({ length: o.count }, () => ({ traces: 0, syscalls: 0 }));
  o.traces.forEach((t, i) => {
    profiles[o.of[i]].traces++;
    profiles[o.of[i]].syscalls += t.length;
    for (const s of segments(t, o.segmentCalls)) {
      units.push(s);
      unitOf.push(o.of[i]);
    }
  });
  const of = Int32Array.from(unitOf);
  const k = Math.min(o.k, units.length);
  const fold = foldsOf(units.length, k, o.seed);
  const own = new Float64Array(units.length);
  const shared = new Float64Array(units.length);
  for (let f = 0; f < k; f++) {
    const train = units.filter((_, i) => fold[i] !== f);
    const trainOf = Int32Array.from(of.filter((_, i) => fold[i] !== f));
    const scorer = o.fit(train, { of: trainOf, count: o.count }).scorer();
    for (let i = 0; i < units.length; i++) {
      if (fold[i] !== f) continue;
      shared[i] = traceScore(scorer, units[i], o.window, o.delta, 0);
      own[i] = of[i] === 0 ? shared[i] : traceScore(scorer, units[i], o.window, o.delta, of[i]);
    }
    o.progress('calibrate', f + 1, k);
  }
  const fallback = profileThreshold(Array.from(shared), o.targetFpr, 0);
  const thresholds = new Float64Array(o.count);
  const out: Calibration['profiles'] = [];
  let flagged = 0;
  for (let p = 0; p < o.count; p++) {
    const mine = p === 0 ? Array.from(shared) : Array.from(own.filter((_, i) => of[i] === p));
    const t = p === 0 ? fallback : profileThreshold(mine, o.targetFpr, fallback.threshold);
    thresholds[p] = t.threshold;
    out.push({ ...profiles[p], heldOut: mine.length, threshold: t.threshold, rule: t.rule });
  }
  for (let i = 0; i < units.length; i++) if (own[i] >= thresholds[of[i]]) flagged++;
  return { thresholds, profiles: out, units: units.length, heldOutFpr: flagged / units.length };
}

/**
 * Scores up to 512 windows (spread over the traces) with ONNX Runtime from the written folder
 * and with the TypeScript scorer; throws if they differ by more than PARITY_TOLERANCE.
 */
async function checkParity(openClassifier: ClassifierOpener, dir: string, scorer: WindowScorer, traces: readonly Int32Array[], of: Int32Array | undefined, thresholds: Float64Array | undefined, window: number, delta: number): Promise<number> {
  const sample: Int32Array[] = [];
  const profiles: number[] = [];
  const step = Math.max(1, Math.floor(traces.length / 128));
  for (let i = 0; i < traces.length && sample.length < 512; i += step) {
    for (const w of windowsOfTrace(traces[i], { window, delta, minWindow: 1 }).slice(0, 4)) {
      sample.push(w);
      profiles.push(of?.[i] ?? 0);
    }
  }
  const expected = (w: Int32Array, p: number): number => (thresholds === undefined ? scorer.score(w) : scorer.score(w, p) / Math.fround(thresholds[p]));
  const classifier = await openClassifier(await loadModel({ dir }));
  try {
    let worst = 0;
    for (let i = 0; i < sample.length; i += 64) {
      const batch = sample.slice(i, i + 64);
      const batchProfiles = Int32Array.from(profiles.slice(i, i + 64));
      const got = await classifier.score(batch, batchProfiles);
      batch.forEach((w, j) => (worst = Math.max(worst, Math.abs(got[j] - expected(w, batchProfiles[j])))));
      if (i === 0 && classifier.surprisals !== undefined && scorer.surprisals !== undefined) {
        const per = await classifier.surprisals(batch, batchProfiles);
        batch.forEach((w, j) => {
          const want = scorer.surprisals?.(unpadded(w), batchProfiles[j]) ?? new Float64Array(0);
          for (let c = 0; c < want.length; c++) worst = Math.max(worst, Math.abs(per[j][c] - want[c]));
        });
      }
    }
    if (!(worst <= PARITY_TOLERANCE)) throw new Error(`the exported ONNX graph does not reproduce the trained model (largest score difference ${worst}); this is a bug in the ${dir} export`);
    return worst;
  } finally {
    await classifier.close();
  }
}
