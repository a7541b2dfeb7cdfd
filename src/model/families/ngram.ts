// Family "ngram": an interpolated n-gram language model of syscall tokens, optionally with
// one profile per program on top of the shared model.
//
// P_1(w)       = (c(w) + alpha) / (N + alpha * (V - 1))                     (add-alpha unigram)
// P_k(w | ctx) = A_k(ctx, w) + B_k(ctx) * P_{k-1}(w | ctx')                 (k = 2..order)
// Witten-Bell:  A = c(ctx, w) / (c(ctx) + T(ctx)),  B = T(ctx) / (c(ctx) + T(ctx))
// Absolute discounting: A = max(c(ctx, w) - D, 0) / c(ctx),  B = D * T(ctx) / c(ctx)
// with T(ctx) the number of distinct followers of ctx; an unseen context has A = 0, B = 1.
//
// Profiles: a program's model is the same recursion over that program's own counts, from its
// unigram level (empty context) up to the full order, whose base is the shared model's
// P(w | ctx) instead of a uniform distribution: Q_0 = P_shared(w | ctx),
// Q_k = A^p_k + B^p_k * Q_{k-1}. Where the program never saw a context, its level passes the
// shared estimate on unchanged, so a program with little data behaves like the shared model
// and one with much data like itself. Program levels drop n-grams of order >= 3 seen fewer
// than `minCount` times (their mass goes to the backoff), which keeps per-program tables small.
// Profile 0 is the shared model alone: the fallback for programs without a profile.
//
// Context never reaches before the window's first call (a window is scored on its own), so
// padding cannot change a window's score. A window's score is the mean surprisal
// -ln P(w | ctx) over its calls, each capped at the surprisal of the unknown token (1) without
// context, -ln(alpha / (N + alpha (V - 1))): an unknown call (never seen in training) counts
// as the most suspicious call there is, but one call cannot swamp a window.
//
// Keys: an n-gram (t_{i-k+1} .. t_i) is the number sum_j t_{i-j} V^j (base V, exact), the
// context the same without t_i; a program level's keys are key * P + profile (P profiles).
// The ONNX graph computes the same keys in int64 and looks them up with ai.onnx.ml
// LabelEncoder (a hash map), so the graph holds only seen n-grams.
import { GraphBuilder } from '../onnx/builder.js';
import { checkOrder, clampToVocabulary, gramKey, keyAt, keyedInput, meanOfMasked, unpadded, type Family, type FamilyOptions, type GraphInput, type GraphScore, type OnnxOptions, type TrainedModel, type WindowScorer } from './family.js';

export type Smoothing = 'witten-bell' | 'absolute';

export interface NgramOptions {
  order: number;
  smoothing: Smoothing;
  /** Discount for absolute discounting (0 < D < 1). */
  discount: number;
  /** Add-alpha of the unigram (also the unknown token's floor). */
  alpha: number;
  /** Program levels keep n-grams of order >= 3 seen at least this often. */
  minCount: number;
}

export const NGRAM_DEFAULTS: NgramOptions = { order: 6, smoothing: 'witten-bell', discount: 0.75, alpha: 0.5, minCount: 2 };

export interface NgramLevel {
  /** n-gram keys (order k) and their A values. */
  keys: number[];
  mass: number[];
  /** Context keys (order k-1) and their B values. */
  contextKeys: number[];
  backoff: number[];
}

/** The program levels of a profiled model; keys are combined: key * count + profile. */
export interface ProgramLevels {
  /** Profiles including the shared fallback 0, which has no program levels. */
  count: number;
  /** The programs' unigram level: A at [profile * V + w], B at [profile] (profile 0: A 0, B 1). */
  unigramMass: Float64Array;
  unigramBackoff: Float64Array;
  /** Orders 2..order. */
  levels: NgramLevel[];
}

export interface NgramModel {
  family: 'ngram';
  order: number;
  vocabulary: number;
  /** P_1 per token (index 0, padding, holds 1 so that ln P = 0). */
  unigram: Float64Array;
  /** Levels for orders 2..order. */
  levels: NgramLevel[];
  /** Largest surprisal a call can add: that of an unknown call without context. */
  cap: number;
  programs?: ProgramLevels;
}

/** Counts of the k-grams (base-V keys) of `traces`. */
function countGrams(traces: readonly Int32Array[], k: number, V: number): Map<number, number> {
  const grams = new Map<number, number>();
  for (const t of traces) {
    for (let i = k - 1; i < t.length; i++) {
      const key = keyAt(t, i, k, V);
      grams.set(key, (grams.get(key) ?? 0) + 1);
    }
  }
  return grams;
}

/**
 * One smoothed level from k-gram counts. A k-gram's context is its key's higher digits,
 * floor(key / V). Grams counted fewer than `minCount` times are left out; their mass goes
 * to their context's backoff. `combine` maps a key to the stored key (profiles).
 */
function levelOf(grams: Map<number, number>, V: number, opts: NgramOptions, minCount = 1, combine: (key: number) => number = (k) => k): NgramLevel {
  const ctxCount = new Map<number, number>();
  const ctxTypes = new Map<number, number>();
  for (const [key, c] of grams) {
    const ctx = Math.floor(key / V);
    ctxCount.set(ctx, (ctxCount.get(ctx) ?? 0) + c);
    ctxTypes.set(ctx, (ctxTypes.get(ctx) ?? 0) + 1);
  }
  const massOf = (key: number, c: number): number => {
    const ctx = Math.floor(key / V);
    const cc = ctxCount.get(ctx) ?? 1;
    const tt = ctxTypes.get(ctx) ?? 0;
    return opts.smoothing === 'witten-bell' ? c / (cc + tt) : Math.max(c - opts.discount, 0) / cc;
  };
  const kept = [...grams.keys()].filter((key) => (grams.get(key) ?? 0) >= minCount).sort((a, b) => a - b);
  const prunedMass = new Map<number, number>();
  if (kept.length < grams.size) {
    for (const [key, c] of grams) {
      if (c >= minCount) continue;
      const ctx = Math.floor(key / V);
      prunedMass.set(ctx, (prunedMass.get(ctx) ?? 0) + massOf(key, c));
    }
  }
  const contexts = [...ctxCount.keys()].sort((a, b) => a - b);
  const backoff = contexts.map((ctx) => {
    const cc = ctxCount.get(ctx) ?? 1;
    const tt = ctxTypes.get(ctx) ?? 0;
    const b = opts.smoothing === 'witten-bell' ? tt / (cc + tt) : (opts.discount * tt) / cc;
    return b + (prunedMass.get(ctx) ?? 0);
  });
  return {
    keys: kept.map(combine),
    mass: kept.map((key) => massOf(key, grams.get(key) ?? 0)),
    contextKeys: contexts.map(combine),
    backoff,
  };
}

/** Trains on whole traces of tokens (tokens >= 2; 1 = unknown is counted like any token). */
export function trainNgram(traces: readonly Int32Array[], vocabulary: number, opts: NgramOptions): NgramModel {
  checkOrder(opts.order, vocabulary, 'n-gram');
  const V = vocabulary;
  const uni = new Float64Array(V);
  let total = 0;
  for (const t of traces) {
    for (let i = 0; i < t.length; i++) uni[t[i]]++;
    total += t.length;
  }
  const unigram = new Float64Array(V);
  unigram[0] = 1;
  for (let w = 1; w < V; w++) unigram[w] = (uni[w] + opts.alpha) / (total + opts.alpha * (V - 1));
  const levels: NgramLevel[] = [];
  for (let k = 2; k <= opts.order; k++) levels.push(levelOf(countGrams(traces, k, V), V, opts));
  return { family: 'ngram', order: opts.order, vocabulary: V, unigram, levels, cap: -Math.log(Math.fround(unigram[1])) };
}

/**
 * The program levels: profile p (1..count-1) learns from the traces whose `of` is p. Trace
 * with profile 0 teach only the shared model.
 */
export function trainProgramLevels(traces: readonly Int32Array[], of: Int32Array, count: number, vocabulary: number, opts: NgramOptions): ProgramLevels {
  checkOrder(opts.order, vocabulary, 'n-gram', count);
  const V = vocabulary;
  const byProfile: Int32Array[][] = Array.from({ length: count }, () => []);
  traces.forEach((t, i) => byProfile[of[i]].push(t));
  const unigramMass = new Float64Array(count * V);
  const unigramBackoff = new Float64Array(count).fill(1);
  const perLevel: { keys: number[]; mass: number[]; contextKeys: number[]; backoff: number[] }[] = [];
  for (let k = 2; k <= opts.order; k++) perLevel.push({ keys: [], mass: [], contextKeys: [], backoff: [] });
  for (let p = 1; p < count; p++) {
    const mine = byProfile[p];
    const uni = new Float64Array(V);
    let n = 0;
    for (const t of mine) {
      for (let i = 0; i < t.length; i++) uni[t[i]]++;
      n += t.length;
    }
    let types = 0;
    for (let w = 1; w < V; w++) if (uni[w] > 0) types++;
    if (n === 0) continue;
    for (let w = 1; w < V; w++) {
      if (uni[w] > 0) unigramMass[p * V + w] = opts.smoothing === 'witten-bell' ? uni[w] / (n + types) : Math.max(uni[w] - opts.discount, 0) / n;
    }
    unigramBackoff[p] = opts.smoothing === 'witten-bell' ? types / (n + types) : (opts.discount * types) / n;
    for (let k = 2; k <= opts.order; k++) {
      const level = levelOf(countGrams(mine, k, V), V, opts, k >= 3 ? opts.minCount : 1, (key) => key * count + p);
      const into = perLevel[k - 2];
      into.keys.push(...level.keys);
      into.mass.push(...level.mass);
      into.contextKeys.push(...level.contextKeys);
      into.backoff.push(...level.backoff);
    }
  }
  // Keys sorted, so the same data gives the same bytes whatever the order of profiles.
  const levels = perLevel.map((l) => {
    const gi = l.keys.map((_, i) => i).sort((a, b) => l.keys[a] - l.keys[b]);
    const ci = l.contextKeys.map((_, i) => i).sort((a, b) => l.contextKeys[a] - l.contextKeys[b]);
    return { keys: gi.map((i) => l.keys[i]), mass: gi.map((i) => l.mass[i]), contextKeys: ci.map((i) => l.contextKeys[i]), backoff: ci.map((i) => l.backoff[i]) };
  });
  return { count, unigramMass, unigramBackoff, levels };
}

/** Lookup tables of a model, built once for scoring in TypeScript (values rounded as in ONNX). */
export class NgramScorer implements WindowScorer {
  private readonly mass: Map<number, number>[];
  private readonly backoff: Map<number, number>[];
  private readonly unigram: Float32Array;
  private readonly cap: number;
  private readonly pMass: Map<number, number>[] = [];
  private readonly pBackoff: Map<number, number>[] = [];
  private readonly pUnigramMass: Float32Array = new Float32Array(0);
  private readonly pUnigramBackoff: Float32Array = new Float32Array(0);
  private readonly profiles: number;

  constructor(readonly model: NgramModel) {
    this.cap = Math.fround(model.cap);
    this.unigram = Float32Array.from(model.unigram);
    const maps = (levels: readonly NgramLevel[]) => ({
      mass: levels.map((l) => new Map(l.keys.map((k, i) => [k, Math.fround(l.mass[i])]))),
      backoff: levels.map((l) => new Map(l.contextKeys.map((k, i) => [k, Math.fround(l.backoff[i])]))),
    });
    ({ mass: this.mass, backoff: this.backoff } = maps(model.levels));
    const programs = model.programs;
    this.profiles = programs?.count ?? 1;
    if (programs !== undefined) {
      ({ mass: this.pMass, backoff: this.pBackoff } = maps(programs.levels));
      this.pUnigramMass = Float32Array.from(programs.unigramMass);
      this.pUnigramBackoff = Float32Array.from(programs.unigramBackoff);
    }
  }

  /** Per-call surprisal -ln P of a window's calls (no padding) by `profile`, context limited to the window. */
  surprisals(window: Int32Array, profile = 0, out = new Float64Array(window.length)): Float64Array {
    const V = this.model.vocabulary;
    const order = this.model.order;
    const P = this.profiles;
    const mine = profile > 0 && profile < P;
    const tokens = clampToVocabulary(window, V);
    const n = tokens.length;
    for (let i = 0; i < n; i++) {
      const w = tokens[i];
      let p = this.unigram[w];
      let ctx = 0;
      let scale = 1;
      for (let k = 2; k <= order && i - k + 1 >= 0; k++) {
        ctx += tokens[i - k + 1] * scale;
        scale *= V;
        const b = this.backoff[k - 2].get(ctx);
        if (b === undefined) continue; // unseen context: A = 0, B = 1
        p = (this.mass[k - 2].get(ctx * V + w) ?? 0) + b * p;
      }
      if (mine) {
        p = this.pUnigramMass[profile * V + w] + this.pUnigramBackoff[profile] * p;
        ctx = 0;
        scale = 1;
        for (let k = 2; k <= order && i - k + 1 >= 0; k++) {
          ctx += tokens[i - k + 1] * scale;
          scale *= V;
          const b = this.pBackoff[k - 2].get(ctx * P + profile);
          if (b === undefined) continue;
          p = (this.pMass[k - 2].get((ctx * V + w) * P + profile) ?? 0) + b * p;
        }
      }
      out[i] = Math.min(-Math.log(p), this.cap);
    }
    return out;
  }

  /** The window's score by `profile`: mean surprisal over its calls (0 for an empty window). */
  score(tokens: Int32Array, profile = 0): number {
    const valid = unpadded(tokens);
    if (valid.length === 0) return 0;
    const s = this.surprisals(valid, profile);
    let sum = 0;
    for (let i = 0; i < s.length; i++) sum += s[i];
    return sum / s.length;
  }
}

/**
 * The model as an ONNX graph: input `syscalls` int64 [batch, window] (0 = padding, right
 * padded); outputs `score` float32 [batch] = mean surprisal over the non-padding calls, and
 * `surprisal` float32 [batch, window] = each call's surprisal (0 on padding). With
 * thresholds (one per profile), also input `profile` int64 [batch], and `score` is divided
 * by the profile's threshold. Tokens >= vocabulary are read as unknown (1).
 */
export function ngramToOnnx(model: NgramModel, window: number, opts: OnnxOptions = {}): Uint8Array {
  const g = new GraphBuilder('argos-ngram');
  const keyed = keyedInput(g, model.vocabulary, window, model.order - 1);
  const profile = opts.thresholds === undefined ? undefined : g.input('profile', 'int64', ['batch']);
  const surprisal = ngramSurprisal(g, model, keyed, profile);
  let score = meanOfMasked(g, surprisal, keyed.valid);
  if (profile !== undefined && opts.thresholds !== undefined) {
    const thresholds = g.constant('thresholds', 'float32', [opts.thresholds.length], opts.thresholds);
    score = g.op('Div', [score, g.op('Gather', [thresholds, profile], { axis: 0 })]);
  }
  g.output(score, 'float32', ['batch'], 'score');
  g.output(surprisal, 'float32', ['batch', window], 'surprisal');
  return g.toBytes({ opset: 17, mlOpset: 2, metadata: { family: 'ngram', order: String(model.order), profiles: String(model.programs?.count ?? 1), ...opts.metadata } });
}

/** The model's scoring (shared model only) in a graph that has the input: for ensembles. */
export function emitNgram(g: GraphBuilder, model: NgramModel, input: GraphInput): GraphScore {
  const surprisal = ngramSurprisal(g, model, keyedInput(g, model.vocabulary, input.window, model.order - 1, input));
  return { score: meanOfMasked(g, surprisal, input.valid), surprisal };
}

/** Each call's surprisal, float32 [batch, window] (0 on padding), by `profile`'s program levels when given. */
function ngramSurprisal(g: GraphBuilder, model: NgramModel, keyed: GraphInput & { contexts: string[] }, profile?: string): string {
  const V = model.vocabulary;
  const { x, valid, contexts } = keyed;
  let p = g.op('Gather', [g.constant('unigram', 'float32', [V], model.unigram), x], { axis: 0 });
  for (let k = 2; k <= model.order; k++) {
    const ctx = contexts[k - 2];
    const level = model.levels[k - 2];
    const a = g.op('LabelEncoder', [gramKey(g, ctx, x, V)], { keys_int64s: level.keys, values_floats: { floats: level.mass }, default_float: { float: 0 } }, 'ai.onnx.ml');
    const b = g.op('LabelEncoder', [ctx], { keys_int64s: level.contextKeys, values_floats: { floats: level.backoff }, default_float: { float: 1 } }, 'ai.onnx.ml');
    p = g.op('Add', [a, g.op('Mul', [b, p])]);
  }
  const programs = model.programs;
  if (profile !== undefined && programs !== undefined && programs.count > 1) {
    const P = programs.count;
    const column = g.op('Unsqueeze', [profile, g.ints([1], 'axes')]);
    const pConst = g.constant('profiles', 'int64', [], [P]);
    const withProfile = (key: string): string => g.op('Add', [g.op('Mul', [key, pConst]), column]);
    const uniIndex = g.op('Add', [g.op('Mul', [column, g.constant('base', 'int64', [], [V])]), x]);
    const a1 = g.op('Gather', [g.constant('program_unigram', 'float32', [P * V], programs.unigramMass), uniIndex], { axis: 0 });
    const b1 = g.op('Gather', [g.constant('program_unigram_backoff', 'float32', [P], programs.unigramBackoff), column], { axis: 0 });
    p = g.op('Add', [a1, g.op('Mul', [b1, p])]);
    for (let k = 2; k <= model.order; k++) {
      const ctx = contexts[k - 2];
      const level = programs.levels[k - 2];
      if (level.contextKeys.length === 0) continue;
      const a = g.op('LabelEncoder', [withProfile(gramKey(g, ctx, x, V))], { keys_int64s: level.keys, values_floats: { floats: level.mass }, default_float: { float: 0 } }, 'ai.onnx.ml');
      const b = g.op('LabelEncoder', [withProfile(ctx)], { keys_int64s: level.contextKeys, values_floats: { floats: level.backoff }, default_float: { float: 1 } }, 'ai.onnx.ml');
      p = g.op('Add', [a, g.op('Mul', [b, p])]);
    }
  }
  return g.op('Mul', [g.op('Min', [g.op('Neg', [g.op('Log', [p])]), g.scalar(model.cap, 'cap')]), valid]);
}

export const ngramFamily: Family = {
  name: 'ngram',
  description: 'interpolated n-gram language model (Witten-Bell), one profile per program when the data names programs; window score = mean surprisal',
  profiles: true,
  train(traces: readonly Int32Array[], vocabulary: number, opts: FamilyOptions): TrainedModel {
    const options = { ...NGRAM_DEFAULTS, ...(opts.order === undefined ? {} : { order: opts.order }) };
    const model = trainNgram(traces, vocabulary, options);
    if (opts.profiles !== undefined && opts.profiles.count > 1) model.programs = trainProgramLevels(traces, opts.profiles.of, opts.profiles.count, vocabulary, options);
    const entries = (levels: readonly NgramLevel[]) => levels.reduce((s, l) => s + l.keys.length + l.contextKeys.length, 0);
    return {
      family: 'ngram',
      vocabulary,
      profiles: model.programs?.count ?? 1,
      scorer: () => new NgramScorer(model),
      toOnnx: (window, onnx) => ngramToOnnx(model, window, onnx),
      emit: (g, input) => emitNgram(g, model, input),
      describe: () => ({
        order: model.order,
        ngrams: model.levels.reduce((s, l) => s + l.keys.length, 0),
        contexts: model.levels.reduce((s, l) => s + l.contextKeys.length, 0),
        ...(model.programs === undefined ? {} : { profiles: model.programs.count, programEntries: entries(model.programs.levels) }),
      }),
    };
  },
};
