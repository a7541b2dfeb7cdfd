// What a model family provides: training from token traces, scoring in TypeScript (for
// calibration and the parity check) and the same scoring as a self-contained ONNX graph.
import { GraphBuilder } from '../onnx/builder.js';

export interface WindowScorer {
  /** Score of one window of tokens (no padding needed; zeros end the window). */
  score(tokens: Int32Array): number;
}

export interface TrainedModel {
  readonly family: string;
  readonly vocabulary: number;
  scorer(): WindowScorer;
  /** ONNX bytes: input `syscalls` int64 [batch, window], output `score` float32 [batch]. */
  toOnnx(window: number, metadata?: Record<string, string>): Uint8Array;
  /** Adds the model's scoring to a graph that already has the input (for ensembles); returns the score tensor [batch]. */
  emit(g: GraphBuilder, input: GraphInput): GraphScore;
  /** Figures for the model card (sizes, orders). */
  describe(): Record<string, number>;
}

/** The input of a scoring graph: tokens clamped to the vocabulary and the padding mask. */
export interface GraphInput {
  /** int64 [batch, window], tokens >= vocabulary read as unknown (1). */
  x: string;
  /** float32 [batch, window]: 1 for a call, 0 for padding. */
  valid: string;
  vocabulary: number;
  window: number;
  /** int64 scalar 0. */
  zero: string;
}

/** What a family's graph gives: the window score, and each call's surprisal where the family has one. */
export interface GraphScore {
  /** float32 [batch] */
  score: string;
  /** Adds the per-call surprisal, float32 [batch, window] with 0 at padding, when asked for (no nodes otherwise). */
  surprisal?: () => string;
}

export interface FamilyOptions {
  /** n-gram order (ngram: highest order of the language model; stide: sequence length). */
  order?: number;
  /** Neural families: state width. */
  hidden?: number;
  /** Neural families: passes over the training data. */
  epochs?: number;
  /** Ensemble: its members, e.g. `gru:64,ngram:6` (family:size). */
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
  /** Traces of tokens (1 = unknown, >= 2 = mapping ids), all < vocabulary. */
  train(traces: readonly Int32Array[], vocabulary: number, opts: FamilyOptions): TrainedModel;
}

/** The graph input `syscalls` int64 [batch, window], clamped to the vocabulary, and its padding mask. */
export function graphInput(g: GraphBuilder, vocabulary: number, window: number): GraphInput {
  const x0 = g.input('syscalls', 'int64', ['batch', window]);
  const inVocab = g.op('Less', [x0, g.constant('vocab', 'int64', [], [vocabulary])]);
  const x = g.op('Where', [inVocab, x0, g.constant('unknown', 'int64', [], [1])]);
  const zero = g.constant('zero_i', 'int64', [], [0]);
  const valid = g.op('Cast', [g.op('Not', [g.op('Equal', [x, zero])])], { to: 1 });
  return { x, valid, vocabulary, window, zero };
}

/** A one-model graph: the input, the model's scoring, the `score` output (and `surprisal` if asked for and the model has it). */
export function singleModelOnnx(name: string, model: Pick<TrainedModel, 'emit'>, vocabulary: number, window: number, opts: { mlOpset?: number; surprisal?: boolean; metadata: Record<string, string> }): Uint8Array {
  const g = new GraphBuilder(name);
  const out = model.emit(g, graphInput(g, vocabulary, window));
  g.output(out.score, 'float32', ['batch'], 'score');
  if (opts.surprisal === true && out.surprisal !== undefined) g.output(out.surprisal(), 'float32', ['batch', window], 'surprisal');
  return g.toBytes({ opset: 17, ...(opts.mlOpset === undefined ? {} : { mlOpset: opts.mlOpset }), metadata: opts.metadata });
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

/**
 * Context keys for the n-gram families: for j = 1..maxShift the input shifted right by j
 * (zeros shifted in before the window's start) and ctx_j = sum_{m=1..j} t_{i-m} V^{m-1}.
 */
export function keyedInput(g: GraphBuilder, input: GraphInput, maxShift: number): { shifted: string[]; contexts: string[]; zero: string } {
  const V = input.vocabulary;
  const zero = input.zero;
  const shifted: string[] = [];
  const contexts: string[] = [];
  let ctx = '';
  for (let j = 1; j <= maxShift; j++) {
    const s = shiftRight(g, input.x, j, zero);
    shifted.push(s);
    const digit = j === 1 ? s : g.op('Mul', [s, g.constant('pow', 'int64', [], [Math.pow(V, j - 1)])]);
    ctx = j === 1 ? digit : g.op('Add', [ctx, digit]);
    contexts.push(ctx);
  }
  return { shifted, contexts, zero };
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
  const axes = g.ints([1], 'axes');
  const sum = g.op('ReduceSum', [g.op('Mul', [v, mask]), axes], { keepdims: 0 });
  const count = g.op('Max', [g.op('ReduceSum', [mask, axes], { keepdims: 0 }), g.scalar(1, 'one')]);
  return g.op('Div', [sum, count]);
}

/** Largest n whose keys stay exact in a double (and an int64): V^n < 2^53. */
export function maxOrder(vocabulary: number): number {
  let k = 1;
  while (Math.pow(vocabulary, k + 1) < 2 ** 53) k++;
  return k;
}

/** Key of the n-gram of length `n` ending at `i` (t_{i-n+1} most significant), or -1 if it starts before 0. */
export function keyAt(tokens: ArrayLike<number>, i: number, n: number, vocabulary: number): number {
  if (i - n + 1 < 0) return -1;
  let key = 0;
  for (let j = n - 1; j >= 0; j--) key = key * vocabulary + tokens[i - j];
  return key;
}

export function checkOrder(order: number, vocabulary: number, what: string): void {
  if (!Number.isInteger(order) || order < 1) throw new RangeError(`${what} order must be a whole number >= 1, got ${order}`);
  if (order > maxOrder(vocabulary)) throw new RangeError(`${what} order ${order} is too high for a vocabulary of ${vocabulary} (at most ${maxOrder(vocabulary)})`);
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
