// Family "ngram": an interpolated n-gram language model of syscall tokens.
//
// P_1(w)       = (c(w) + alpha) / (N + alpha * (V - 1))                     (add-alpha unigram)
// P_k(w | ctx) = A_k(ctx, w) + B_k(ctx) * P_{k-1}(w | ctx')                 (k = 2..order)
// Witten-Bell:  A = c(ctx, w) / (c(ctx) + T(ctx)),  B = T(ctx) / (c(ctx) + T(ctx))
// Absolute discounting: A = max(c(ctx, w) - D, 0) / c(ctx),  B = D * T(ctx) / c(ctx)
// with T(ctx) the number of distinct followers of ctx; an unseen context has A = 0, B = 1.
// Context never reaches before the window's first call (a window is scored on its own), so
// padding cannot change a window's score. A window's score is the mean surprisal
// -ln P(w | ctx) over its calls, each capped at the surprisal of the unknown token (1) without
// context, -ln(alpha / (N + alpha (V - 1))): an unknown call (never seen in training) counts
// as the most suspicious call there is, but one call cannot swamp a window.
//
// Keys: an n-gram (t_{i-k+1} .. t_i) is the number sum_j t_{i-j} V^j (base V, exact), the
// context the same without t_i. The ONNX graph computes the same keys in int64 and looks
// them up with ai.onnx.ml LabelEncoder (a hash map), so the graph holds only seen n-grams.
import { GraphBuilder } from '../onnx/builder.js';
import { checkOrder, clampToVocabulary, gramKey, keyAt, keyedInput, maskedMean, meanSurprisal, singleModelOnnx, type Family, type FamilyOptions, type GraphInput, type GraphScore, type TrainedModel, type WindowScorer } from './family.js';

export type Smoothing = 'witten-bell' | 'absolute';

export interface NgramOptions {
  order: number;
  smoothing: Smoothing;
  /** Discount for absolute discounting (0 < D < 1). */
  discount: number;
  /** Add-alpha of the unigram (also the unknown token's floor). */
  alpha: number;
}

export const NGRAM_DEFAULTS: NgramOptions = { order: 6, smoothing: 'witten-bell', discount: 0.75, alpha: 0.5 };

export interface NgramLevel {
  /** n-gram keys (order k) and their A values. */
  keys: number[];
  mass: number[];
  /** Context keys (order k-1) and their B values. */
  contextKeys: number[];
  backoff: number[];
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
  for (let k = 2; k <= opts.order; k++) {
    const grams = new Map<number, number>();
    for (const t of traces) {
      for (let i = k - 1; i < t.length; i++) {
        const key = keyAt(t, i, k, V);
        grams.set(key, (grams.get(key) ?? 0) + 1);
      }
    }
    // A key's context is key's higher digits: ctx = floor(key / V) (t_i is the lowest digit).
    const ctxCount = new Map<number, number>();
    const ctxTypes = new Map<number, number>();
    for (const [key, c] of grams) {
      const ctx = Math.floor(key / V);
      ctxCount.set(ctx, (ctxCount.get(ctx) ?? 0) + c);
      ctxTypes.set(ctx, (ctxTypes.get(ctx) ?? 0) + 1);
    }
    const keys = [...grams.keys()].sort((a, b) => a - b);
    const mass = keys.map((key) => {
      const c = grams.get(key) ?? 0;
      const ctx = Math.floor(key / V);
      const cc = ctxCount.get(ctx) ?? 1;
      const tt = ctxTypes.get(ctx) ?? 0;
      return opts.smoothing === 'witten-bell' ? c / (cc + tt) : Math.max(c - opts.discount, 0) / cc;
    });
    const contextKeys = [...ctxCount.keys()].sort((a, b) => a - b);
    const backoff = contextKeys.map((ctx) => {
      const cc = ctxCount.get(ctx) ?? 1;
      const tt = ctxTypes.get(ctx) ?? 0;
      return opts.smoothing === 'witten-bell' ? tt / (cc + tt) : (opts.discount * tt) / cc;
    });
    levels.push({ keys, mass, contextKeys, backoff });
  }
  return { family: 'ngram', order: opts.order, vocabulary: V, unigram, levels, cap: -Math.log(Math.fround(unigram[1])) };
}

/** Lookup tables of a model, built once for scoring in TypeScript (values rounded as in ONNX). */
export class NgramScorer implements WindowScorer {
  private readonly mass: Map<number, number>[];
  private readonly backoff: Map<number, number>[];
  private readonly unigram: Float32Array;
  private readonly cap: number;

  constructor(readonly model: NgramModel) {
    this.cap = Math.fround(model.cap);
    this.unigram = Float32Array.from(model.unigram);
    this.mass = model.levels.map((l) => new Map(l.keys.map((k, i) => [k, Math.fround(l.mass[i])])));
    this.backoff = model.levels.map((l) => new Map(l.contextKeys.map((k, i) => [k, Math.fround(l.backoff[i])])));
  }

  /** Per-call surprisal -ln P of a window's calls (no padding), context limited to the window. */
  surprisals(window: Int32Array, out = new Float64Array(window.length)): Float64Array {
    const V = this.model.vocabulary;
    const tokens = clampToVocabulary(window, V);
    const n = tokens.length;
    for (let i = 0; i < n; i++) {
      const w = tokens[i];
      let p = this.unigram[w < V ? w : 1];
      let ctx = 0;
      let scale = 1;
      for (let k = 2; k <= this.model.order && i - k + 1 >= 0; k++) {
        const c = tokens[i - k + 1];
        ctx += c * scale;
        scale *= V;
        const level = k - 2;
        const b = this.backoff[level].get(ctx);
        if (b === undefined) continue; // unseen context: A = 0, B = 1
        p = (this.mass[level].get(ctx * V + w) ?? 0) + b * p;
      }
      out[i] = Math.min(-Math.log(p), this.cap);
    }
    return out;
  }

  /** The window's score: mean surprisal over its calls (0 for an empty window). */
  score(tokens: Int32Array): number {
    return meanSurprisal(tokens, (calls) => this.surprisals(calls));
  }
}

/**
 * The model's scoring in a graph: the mean surprisal over the non-padding calls, and each
 * call's surprisal (0 at padding). Tokens >= vocabulary are read as unknown (1).
 */
export function emitNgram(g: GraphBuilder, model: NgramModel, input: GraphInput): GraphScore {
  const V = model.vocabulary;
  const { x, valid } = input;
  const { contexts } = keyedInput(g, input, model.order - 1);
  let p = g.op('Gather', [g.constant('unigram', 'float32', [V], model.unigram), x], { axis: 0 });
  for (let k = 2; k <= model.order; k++) {
    const ctx = contexts[k - 2];
    const level = model.levels[k - 2];
    const a = g.op('LabelEncoder', [gramKey(g, ctx, x, V)], { keys_int64s: level.keys, values_floats: { floats: level.mass }, default_float: { float: 0 } }, 'ai.onnx.ml');
    const b = g.op('LabelEncoder', [ctx], { keys_int64s: level.contextKeys, values_floats: { floats: level.backoff }, default_float: { float: 1 } }, 'ai.onnx.ml');
    p = g.op('Add', [a, g.op('Mul', [b, p])]);
  }
  const surprisal = g.op('Min', [g.op('Neg', [g.op('Log', [p])]), g.scalar(model.cap, 'cap')]);
  return { score: maskedMean(g, surprisal, valid), surprisal: () => g.op('Mul', [surprisal, valid]) };
}

/**
 * The model as an ONNX graph: input `syscalls` int64 [batch, window] (0 = padding, right
 * padded), output `score` float32 [batch] = mean surprisal over the non-padding calls, and
 * `surprisal` float32 [batch, window].
 */
export function ngramToOnnx(model: NgramModel, window: number, metadata: Record<string, string> = {}): Uint8Array {
  return singleModelOnnx('argos-ngram', { emit: (g, input) => emitNgram(g, model, input) }, model.vocabulary, window, { mlOpset: 2, metadata: { family: 'ngram', order: String(model.order), ...metadata } });
}

export const ngramFamily: Family = {
  name: 'ngram',
  description: 'interpolated n-gram language model (Witten-Bell); window score = mean surprisal',
  train(traces: readonly Int32Array[], vocabulary: number, opts: FamilyOptions): TrainedModel {
    const model = trainNgram(traces, vocabulary, { ...NGRAM_DEFAULTS, ...(opts.order === undefined ? {} : { order: opts.order }) });
    return {
      family: 'ngram',
      vocabulary,
      scorer: () => new NgramScorer(model),
      toOnnx: (window, metadata) => ngramToOnnx(model, window, metadata),
      emit: (g, input) => emitNgram(g, model, input),
      describe: () => ({ order: model.order, ngrams: model.levels.reduce((s, l) => s + l.keys.length, 0), contexts: model.levels.reduce((s, l) => s + l.contextKeys.length, 0) }),
    };
  },
};
