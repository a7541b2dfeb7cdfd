// A GRU language model of syscall tokens: its parameters, their seeded initialisation, and
// scoring in TypeScript (the ONNX export in families/gru.ts computes the same).
//
// Input at step t is the previous call (token 0, the padding token, stands for "start of the
// window" at t = 0), through an embedding of width E. One GRU layer of H units in ONNX's
// "linear before reset" form, gates in ONNX order z, r, n:
//   a = W e_t + bw                 u = R h_{t-1} + br     (3H each; br is zero for z and r)
//   z = σ(a_z + u_z)   r = σ(a_r + u_r)   n = tanh(a_n + r ⊙ u_n)   h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}
//   P(call t | calls before it in the window) = softmax(O h_t + bo)
// A call's surprisal is -ln P, capped like the n-gram model's (an unknown call, token 1, is
// never seen in training, so its probability is tiny: the cap keeps one call from swamping a
// window). A window's score is the mean surprisal of its calls; the state starts at zero at the
// window's first call, so padding after the window cannot change its score.
import { prng } from '../../core/random.js';
import { clampToVocabulary, meanSurprisal, type WindowScorer } from '../families/family.js';

/** Token fed at a window's first step (the padding token: no call before). */
export const START_TOKEN = 0;

export interface GruShape {
  vocabulary: number;
  embedding: number;
  hidden: number;
}

export interface GruParams extends GruShape {
  /** [V][E] */
  emb: Float32Array;
  /** [3H][E], gates z, r, n */
  w: Float32Array;
  /** [3H] */
  bw: Float32Array;
  /** [3H][H] */
  r: Float32Array;
  /** [3H]; only the n part is used (z and r biases live in bw). */
  br: Float32Array;
  /** [V][H] */
  out: Float32Array;
  /** [V] */
  bo: Float32Array;
}

export type ParamName = 'emb' | 'w' | 'bw' | 'r' | 'br' | 'out' | 'bo';
export const PARAM_NAMES: readonly ParamName[] = ['emb', 'w', 'bw', 'r', 'br', 'out', 'bo'];

export function zeroParams(shape: GruShape): GruParams {
  const { vocabulary: V, embedding: E, hidden: H } = shape;
  return {
    ...shape,
    emb: new Float32Array(V * E),
    w: new Float32Array(3 * H * E),
    bw: new Float32Array(3 * H),
    r: new Float32Array(3 * H * H),
    br: new Float32Array(3 * H),
    out: new Float32Array(V * H),
    bo: new Float32Array(V),
  };
}

/** Seeded initial weights: uniform ±1/√fan-in, output bias at the log unigram frequencies. */
export function initParams(shape: GruShape, unigram: Float64Array, seed: number): GruParams {
  const p = zeroParams(shape);
  const next = prng(seed);
  const fill = (a: Float32Array, scale: number): void => {
    for (let i = 0; i < a.length; i++) a[i] = (2 * next() - 1) * scale;
  };
  fill(p.emb, 0.5);
  fill(p.w, 1 / Math.sqrt(shape.embedding));
  fill(p.r, 1 / Math.sqrt(shape.hidden));
  fill(p.out, 1 / Math.sqrt(shape.hidden));
  for (let v = 0; v < shape.vocabulary; v++) p.bo[v] = Math.log(Math.max(unigram[v], 1e-7));
  return p;
}

/** Number of weights. */
export function paramCount(p: GruParams): number {
  return PARAM_NAMES.reduce((s, n) => s + p[n].length, 0);
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** The input side of the gates for every token, W·emb[v] + bw: [V][3H] (one lookup per call instead of 3H·E multiplications). */
export function inputTable(p: GruParams, out: Float32Array = new Float32Array(p.vocabulary * 3 * p.hidden)): Float32Array {
  const { vocabulary: V, embedding: E, hidden: H, emb, w, bw } = p;
  const G = 3 * H;
  for (let v = 0; v < V; v++) {
    const eo = v * E;
    for (let j = 0; j < G; j++) {
      let a = bw[j];
      const wo = j * E;
      for (let k = 0; k < E; k++) a += w[wo + k] * emb[eo + k];
      out[v * G + j] = a;
    }
  }
  return out;
}

/** Gate values a step keeps for backpropagation, each [H] at `off` of its array. */
export interface GateSave {
  z: Float32Array;
  r: Float32Array;
  n: Float32Array;
  un: Float32Array;
  off: number;
}

/**
 * One GRU step for one sequence: the token's row of `table` (at `row`) and the previous state
 * (`hPrev` at `hpOff`) give the new state (`h` at `hOff`), and the gate values when `save` is given.
 */
export function gruStep(p: GruParams, table: Float32Array, row: number, hPrev: Float32Array, hpOff: number, h: Float32Array, hOff: number, save?: GateSave): void {
  const H = p.hidden;
  const R = p.r;
  const br = p.br;
  for (let j = 0; j < H; j++) {
    let uz = 0;
    let ur = 0;
    let un = br[2 * H + j];
    const rz = j * H;
    const rr = (H + j) * H;
    const rn = (2 * H + j) * H;
    for (let k = 0; k < H; k++) {
      const hk = hPrev[hpOff + k];
      uz += R[rz + k] * hk;
      ur += R[rr + k] * hk;
      un += R[rn + k] * hk;
    }
    const z = sigmoid(table[row + j] + uz);
    const rg = sigmoid(table[row + H + j] + ur);
    const n = Math.tanh(table[row + 2 * H + j] + rg * un);
    h[hOff + j] = (1 - z) * n + z * hPrev[hpOff + j];
    if (save !== undefined) {
      save.z[save.off + j] = z;
      save.r[save.off + j] = rg;
      save.n[save.off + j] = n;
      save.un[save.off + j] = un;
    }
  }
}

/** Output logits O h + bo into `logits` [V]; returns ln Σ exp(logits). */
export function logits(p: GruParams, h: Float32Array, out: Float64Array): number {
  const H = p.hidden;
  const V = p.vocabulary;
  let max = Number.NEGATIVE_INFINITY;
  for (let v = 0; v < V; v++) {
    let s = p.bo[v];
    const o = v * H;
    for (let k = 0; k < H; k++) s += p.out[o + k] * h[k];
    out[v] = s;
    if (s > max) max = s;
  }
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(out[v] - max);
  return max + Math.log(sum);
}

/** Surprisal cap: that of an unknown call under an add-½ unigram of the training data (as the n-gram's). */
export function surprisalCap(trainingCalls: number, vocabulary: number): number {
  return -Math.log(Math.fround(0.5 / (trainingCalls + 0.5 * (vocabulary - 1))));
}

export interface GruModel {
  params: GruParams;
  /** Largest surprisal one call adds. */
  cap: number;
}

export class GruScorer implements WindowScorer {
  private readonly h0: Float32Array;
  private readonly h1: Float32Array;
  private readonly lg: Float64Array;
  private readonly table: Float32Array;

  constructor(readonly model: GruModel) {
    this.h0 = new Float32Array(model.params.hidden);
    this.h1 = new Float32Array(model.params.hidden);
    this.lg = new Float64Array(model.params.vocabulary);
    this.table = inputTable(model.params);
  }

  /** Per-call surprisal of a window's calls (no padding), the state starting at zero (no profiles: `_profile` is ignored). */
  surprisals(window: Int32Array, _profile = 0, out = new Float64Array(window.length)): Float64Array {
    const p = this.model.params;
    const G = 3 * p.hidden;
    const tokens = clampToVocabulary(window, p.vocabulary);
    const cap = Math.fround(this.model.cap);
    let h = this.h0;
    let next = this.h1;
    h.fill(0);
    for (let t = 0; t < tokens.length; t++) {
      gruStep(p, this.table, (t === 0 ? START_TOKEN : tokens[t - 1]) * G, h, 0, next, 0);
      [h, next] = [next, h];
      const lse = logits(p, h, this.lg);
      out[t] = Math.min(lse - this.lg[tokens[t]], cap);
    }
    return out;
  }

  score(tokens: Int32Array): number {
    return meanSurprisal(tokens, (calls) => this.surprisals(calls));
  }
}
