// What a model family provides: training from token traces, scoring in TypeScript (for
// calibration and the parity check) and the same scoring as a self-contained ONNX graph.
import { GraphBuilder } from '../onnx/builder.js';

export interface WindowScorer {
  /**
   * Score of one window of tokens (no padding needed; zeros end the window), by `profile`'s
   * model (0 = the shared fallback; families without profiles ignore it).
   */
  score(tokens: Int32Array, profile?: number): number;
  /** Per-call surprisal of the window's calls (nats), when the family has it. */
  surprisals?(tokens: Int32Array, profile?: number): Float64Array;
}

/** How the graph reports: raw scores, or scores divided by their profile's threshold. */
export interface OnnxOptions {
  metadata?: Record<string, string>;
  /**
   * One threshold per profile (index = profile id): the graph takes a `profile` input and its
   * `score` is the raw score divided by that profile's threshold (alert at 1). Only for
   * models trained with profiles.
   */
  thresholds?: Float64Array;
}

export interface TrainedModel {
  readonly family: string;
  readonly vocabulary: number;
  /** Profiles including the shared fallback 0 (1 when trained without programs). */
  readonly profiles: number;
  scorer(): WindowScorer;
  /**
   * ONNX bytes: input `syscalls` int64 [batch, window] (and `profile` int64 [batch] with
   * thresholds), outputs `score` float32 [batch] and, when the family has it, `surprisal`
   * float32 [batch, window] (0 on padding).
   */
  toOnnx(window: number, opts?: OnnxOptions): Uint8Array;
  /**
   * Adds the model's scoring (without profiles) to a graph that already has the input, for
   * ensembles; absent in families that cannot be an ensemble member.
   */
  emit?(g: GraphBuilder, input: GraphInput): GraphScore;
  /** Figures for the model card (sizes, orders). */
  describe(): Record<string, number>;
}

/** The input of a scoring graph: tokens clamped to the vocabulary and the padding mask. */
export interface GraphInput {
  /** int64 [batch, window], tokens >= vocabulary read as unknown (1). */
  x: string;
  /** float32 [batch, window]: 1 for a call, 0 for padding. */
  valid: string;
  /** int64 scalar 0. */
  zero: string;
  vocabulary: number;
  window: number;
}

/** What a model's part of a graph gives: the window score and, for language models, each call's surprisal. */
export interface GraphScore {
  /** float32 [batch] */
  score: string;
  /** float32 [batch, window], 0 at padding. */
  surprisal?: string;
}

export interface FamilyOptions {
  /** n-gram order (ngram: highest order of the language model; stide: sequence length). */
  order?: number;
  /**
   * Profiles per program: the profile of each training trace (0 = only the shared model
   * learns from it) and how many profiles there are (including 0).
   */
  profiles?: { of: Int32Array; count: number };
  /** Neural families: state width. */
  hidden?: number;
  /** Neural families: passes over the training data. */
  epochs?: number;
  /** Ensemble: its members, e.g. `gru:64,ngram:5` (family:size). */
  members?: string;
  /** The daemon's window (neural families train on pieces of this length). */
  window?: number;
  /** Seed of everything random in training (initial weights, order, dropout). */
  seed?: number;
  /** Called after each pass over the data by families that train in passes. */
  onEpoch?: (epoch: number, loss: number) => void;
}

export interface Family {
  readonly name: string;
  readonly description: string;
  /** True when the family learns one profile per program on top of a shared model. */
  readonly profiles: boolean;
  /** Traces of tokens (1 = unknown, >= 2 = mapping ids), all < vocabulary. */
  train(traces: readonly Int32Array[], vocabulary: number, opts: FamilyOptions): TrainedModel;
}

/** A window's score as the mean of its calls' surprisals (padding ignored; 0 for an empty window). */
export function meanSurprisal(tokens: Int32Array, surprisals: (calls: Int32Array) => Float64Array): number {
  const calls = unpadded(tokens);
  if (calls.length === 0) return 0;
  const s = surprisals(calls);
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s[i];
  return sum / s.length;
}

/** The non-padding prefix of a window (windows are right-padded with zeros). */
export function unpadded(tokens: Int32Array): Int32Array {
  const end = tokens.indexOf(0);
  return end < 0 ? tokens : tokens.subarray(0, end);
}

/** The graph input `syscalls` int64 [batch, window], clamped to the vocabulary (out-of-range -> unknown 1), and its padding mask. */
export function graphInput(g: GraphBuilder, vocabulary: number, window: number): GraphInput {
  const x0 = g.input('syscalls', 'int64', ['batch', window]);
  const inVocab = g.op('Less', [x0, g.constant('vocab', 'int64', [], [vocabulary])]);
  const x = g.op('Where', [inVocab, x0, g.constant('unknown', 'int64', [], [1])]);
  const zero = g.constant('zero_i', 'int64', [], [0]);
  const valid = g.op('Cast', [g.op('Not', [g.op('Equal', [x, zero])])], { to: 1 });
  return { x, valid, zero, vocabulary, window };
}

/** A one-model graph without profiles: the input, the model's scoring, `score` (and `surprisal` when the model has it). */
export function singleModelOnnx(name: string, emit: (g: GraphBuilder, input: GraphInput) => GraphScore, vocabulary: number, window: number, opts: { mlOpset?: number; metadata: Record<string, string> }): Uint8Array {
  const g = new GraphBuilder(name);
  const out = emit(g, graphInput(g, vocabulary, window));
  g.output(out.score, 'float32', ['batch'], 'score');
  if (out.surprisal !== undefined) g.output(out.surprisal, 'float32', ['batch', window], 'surprisal');
  return g.toBytes({ opset: 17, ...(opts.mlOpset === undefined ? {} : { mlOpset: opts.mlOpset }), metadata: opts.metadata });
}

/**
 * Graph pieces shared by the n-gram families: for j = 1..maxShift the input shifted right by
 * j and the context keys ctx_j = sum_{m=1..j} t_{i-m} V^{m-1} (zeros shifted in before the
 * window's start). Without `input`, the graph's input is declared first (graphInput).
 */
export function keyedInput(g: GraphBuilder, vocabulary: number, window: number, maxShift: number, input: GraphInput = graphInput(g, vocabulary, window)): GraphInput & { shifted: string[]; contexts: string[] } {
  const V = vocabulary;
  const { x, zero } = input;
  const shifted: string[] = [];
  const contexts: string[] = [];
  let ctx = '';
  for (let j = 1; j <= maxShift; j++) {
    const s = shiftRight(g, x, j, zero);
    shifted.push(s);
    const digit = j === 1 ? s : g.op('Mul', [s, g.constant('pow', 'int64', [], [Math.pow(V, j - 1)])]);
    ctx = j === 1 ? digit : g.op('Add', [ctx, digit]);
    contexts.push(ctx);
  }
  return { ...input, shifted, contexts };
}

/** `x` [batch, window] shifted right by `j` along the window, `fill` shifted in. */
export function shiftRight(g: GraphBuilder, x: string, j: number, fill: string): string {
  const sliced = g.op('Slice', [x, g.ints([0], 'starts'), g.ints([-j], 'ends'), g.ints([1], 'axes')]);
  return g.op('Pad', [sliced, g.ints([0, j, 0, 0], 'pads'), fill]);
}

/** `ctx * V + x`: the key of the n-gram ending at each position. */
export function gramKey(g: GraphBuilder, ctx: string, x: string, vocabulary: number): string {
  return g.op('Add', [g.op('Mul', [ctx, g.constant('base', 'int64', [], [vocabulary])]), x]);
}

/** Masked mean over the window axis: sum(v * mask) / max(sum(mask), 1). */
export function maskedMean(g: GraphBuilder, v: string, mask: string): string {
  return meanOfMasked(g, g.op('Mul', [v, mask]), mask);
}

/** The mean over the window axis of values already masked (zero on padding): sum(masked) / max(sum(mask), 1). */
export function meanOfMasked(g: GraphBuilder, masked: string, mask: string): string {
  const axes = g.ints([1], 'axes');
  const sum = g.op('ReduceSum', [masked, axes], { keepdims: 0 });
  const count = g.op('Max', [g.op('ReduceSum', [mask, axes], { keepdims: 0 }), g.scalar(1, 'one')]);
  return g.op('Div', [sum, count]);
}

/** Largest n whose keys stay exact in a double (and an int64): V^n · profiles < 2^53. */
export function maxOrder(vocabulary: number, profiles = 1): number {
  let k = 1;
  while (Math.pow(vocabulary, k + 1) * profiles < 2 ** 53) k++;
  return k;
}

/** Key of the n-gram of length `n` ending at `i` (t_{i-n+1} most significant), or -1 if it starts before 0. */
export function keyAt(tokens: ArrayLike<number>, i: number, n: number, vocabulary: number): number {
  if (i - n + 1 < 0) return -1;
  let key = 0;
  for (let j = n - 1; j >= 0; j--) key = key * vocabulary + tokens[i - j];
  return key;
}

export function checkOrder(order: number, vocabulary: number, what: string, profiles = 1): void {
  if (!Number.isInteger(order) || order < 1) throw new RangeError(`${what} order must be a whole number >= 1, got ${order}`);
  const max = maxOrder(vocabulary, profiles);
  if (order > max) throw new RangeError(`${what} order ${order} is too high for a vocabulary of ${vocabulary}${profiles > 1 ? ` and ${profiles} profiles` : ''} (at most ${max})`);
}

/** Tokens outside the vocabulary read as unknown (1), as the graphs do; the same array when none are. */
export function clampToVocabulary(tokens: Int32Array, vocabulary: number): Int32Array {
  let out = tokens;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] >= vocabulary || tokens[i] < 0) {
      if (out === tokens) out = tokens.slice();
      out[i] = 1;
    }
  }
  return out;
}
