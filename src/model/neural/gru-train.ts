// Training a GRU language model (gru-lm.ts) on token traces: next-call prediction, cross
// entropy, truncated backpropagation through time, Adam, gradient clipping, dropout on the
// state the output layer reads. Hand-written kernels over Float32Array; deterministic (one
// seeded generator for the initial weights, the order of the pieces and the dropout masks).
//
// Data: every trace is cut into pieces of at most `window` calls (the daemon's windows), each
// starting from a zero state as a window is scored. An epoch deals the shuffled pieces to
// `lanes` parallel streams (each to the shortest stream so far); the streams run `bptt` steps
// at a time with the state carried over between chunks and reset at each piece's start.
// After each chunk the parameters take one Adam step on the chunk's mean loss per call.
import { prng } from '../../core/random.js';
import { Adam } from './adam.js';
import { gruStep, initParams, inputTable, PARAM_NAMES, START_TOKEN, surprisalCap, zeroParams, type GruModel, type GruParams, type ParamName } from './gru-lm.js';

export interface GruTrainOptions {
  hidden: number;
  embedding: number;
  epochs: number;
  /** Parallel streams (the batch). */
  lanes: number;
  /** Steps per chunk of truncated backpropagation. */
  bptt: number;
  learningRate: number;
  /** Share of the output layer's inputs dropped during training. */
  dropout: number;
  /** Largest global gradient norm. */
  clip: number;
  /** Pieces of at most this many calls (the daemon's window). */
  window: number;
  seed: number;
}

export const GRU_DEFAULTS: GruTrainOptions = { hidden: 64, embedding: 32, epochs: 12, lanes: 16, bptt: 64, learningRate: 0.004, dropout: 0.1, clip: 5, window: 1024, seed: 1 };

/** Probability below which a call's share of the output gradient is skipped (its weight moves < 1e-6). */
const NEGLIGIBLE = 1e-6;

/** One chunk: `lanes` × `steps` input tokens, targets (-1 = no loss) and reset flags, lane-major. */
export interface Chunk {
  lanes: number;
  steps: number;
  input: Int32Array;
  target: Int32Array;
  reset: Uint8Array;
}

/**
 * Working memory and the chunk kernel: loss and gradients of one chunk, state carried over.
 * Laid out for speed in plain JavaScript: the input side of the gates is one table lookup per
 * call (rows of W·emb + bw, built once per chunk, its gradient spread back to W and emb once
 * per chunk); the gradient into the previous state reads a transposed copy of R; the weight
 * gradients of R are summed over the whole chunk four calls at a time.
 */
export class GruKernel {
  readonly grads: GruParams;
  /** Current state of each lane [lanes][H]. */
  readonly state: Float32Array;
  private readonly hPrev: Float32Array;
  private readonly z: Float32Array;
  private readonly r: Float32Array;
  private readonly n: Float32Array;
  private readonly un: Float32Array;
  private readonly dhOut: Float32Array;
  /** Gradient at the recurrent side of the gates [lanes*steps][3H]. */
  private readonly gu: Float32Array;
  /** Input side of the gates per token [V][3H], and its gradient. */
  private readonly table: Float32Array;
  private readonly dTable: Float32Array;
  /** R transposed [H][3H]. */
  private readonly rT: Float32Array;
  private readonly lg: Float64Array;

  constructor(readonly params: GruParams, readonly lanes: number, readonly steps: number) {
    const H = params.hidden;
    const cells = lanes * steps * H;
    this.grads = zeroParams(params);
    this.state = new Float32Array(lanes * H);
    this.hPrev = new Float32Array(cells);
    this.z = new Float32Array(cells);
    this.r = new Float32Array(cells);
    this.n = new Float32Array(cells);
    this.un = new Float32Array(cells);
    this.dhOut = new Float32Array(cells);
    this.gu = new Float32Array(cells * 3);
    this.table = new Float32Array(params.vocabulary * 3 * H);
    this.dTable = new Float32Array(params.vocabulary * 3 * H);
    this.rT = new Float32Array(3 * H * H);
    this.lg = new Float64Array(params.vocabulary);
  }

  private prepare(): void {
    const { hidden: H, r } = this.params;
    const G = 3 * H;
    inputTable(this.params, this.table);
    for (let j = 0; j < G; j++) for (let k = 0; k < H; k++) this.rT[k * G + j] = r[j * H + k];
  }

  /**
   * Forward and backward over one chunk: fills `grads` (of the mean loss per scored call) and
   * advances `state`. `dropout(i)` gives the mask value (0 or 1/(1-p)) of unit i of the chunk
   * (lane-major, then step, then unit); omit it for none. Returns the summed loss and the
   * number of scored calls.
   */
  run(c: Chunk, dropout?: (i: number) => number): { loss: number; count: number } {
    const p = this.params;
    const g = this.grads;
    const H = p.hidden;
    const V = p.vocabulary;
    const E = p.embedding;
    const G = 3 * H;
    for (const name of PARAM_NAMES) g[name].fill(0);
    this.prepare();
    this.dTable.fill(0);
    let count = 0;
    for (let i = 0; i < c.target.length; i++) if (c.target[i] >= 0) count++;
    const inv = count > 0 ? 1 / count : 0;
    let loss = 0;
    const { lg, table, hPrev: HP, z: Z, r: RG, n: NN, un: UN, dhOut: DH } = this;
    const out = p.out;
    const bo = p.bo;
    const hd = new Float64Array(H);
    const mask = new Float64Array(H);

    // Forward, with the output layer's gradient taken at once (it needs no later step).
    for (let b = 0; b < c.lanes; b++) {
      const so = b * H;
      const st = this.state;
      for (let t = 0; t < c.steps; t++) {
        const at = b * c.steps + t;
        const off = at * H;
        if (c.reset[at]) for (let k = 0; k < H; k++) HP[off + k] = 0;
        else for (let k = 0; k < H; k++) HP[off + k] = st[so + k];
        gruStep(p, table, c.input[at] * G, HP, off, st, so, { z: Z, r: RG, n: NN, un: UN, off });
        const y = c.target[at];
        if (y < 0) {
          for (let k = 0; k < H; k++) DH[off + k] = 0;
          continue;
        }
        for (let k = 0; k < H; k++) {
          mask[k] = dropout === undefined ? 1 : dropout(off + k);
          hd[k] = st[so + k] * mask[k];
        }
        let max = Number.NEGATIVE_INFINITY;
        let v = 0;
        for (; v + 4 <= V; v += 4) {
          let s0 = bo[v];
          let s1 = bo[v + 1];
          let s2 = bo[v + 2];
          let s3 = bo[v + 3];
          const o0 = v * H;
          for (let k = 0; k < H; k++) {
            const h = hd[k];
            s0 += out[o0 + k] * h;
            s1 += out[o0 + H + k] * h;
            s2 += out[o0 + 2 * H + k] * h;
            s3 += out[o0 + 3 * H + k] * h;
          }
          lg[v] = s0;
          lg[v + 1] = s1;
          lg[v + 2] = s2;
          lg[v + 3] = s3;
        }
        for (; v < V; v++) {
          let s0 = bo[v];
          const o0 = v * H;
          for (let k = 0; k < H; k++) s0 += out[o0 + k] * hd[k];
          lg[v] = s0;
        }
        for (v = 0; v < V; v++) if (lg[v] > max) max = lg[v];
        let sum = 0;
        for (v = 0; v < V; v++) {
          const e = Math.exp(lg[v] - max);
          lg[v] = e;
          sum += e;
        }
        loss += Math.log(sum) - Math.log(lg[y]);
        for (let k = 0; k < H; k++) DH[off + k] = 0;
        const norm = 1 / sum;
        for (v = 0; v < V; v++) {
          const prob = lg[v] * norm;
          // Calls the model already all but rules out move the weights by almost nothing.
          if (prob < NEGLIGIBLE && v !== y) continue;
          const d = (prob - (v === y ? 1 : 0)) * inv;
          g.bo[v] += d;
          const o = v * H;
          for (let k = 0; k < H; k++) {
            g.out[o + k] += d * hd[k];
            DH[off + k] += d * out[o + k];
          }
        }
        for (let k = 0; k < H; k++) DH[off + k] *= mask[k];
      }
    }

    // Backward through time, lane by lane: the gates' gradients and the gradient into the
    // previous state; the input side goes to the token's table row.
    const dNext = new Float64Array(H);
    const rT = this.rT;
    const GU = this.gu;
    const dT = this.dTable;
    for (let b = 0; b < c.lanes; b++) {
      dNext.fill(0);
      for (let t = c.steps - 1; t >= 0; t--) {
        const at = b * c.steps + t;
        const off = at * H;
        const go = at * G;
        const to = c.input[at] * G;
        for (let j = 0; j < H; j++) {
          const d = DH[off + j] + dNext[j];
          const z = Z[off + j];
          const r = RG[off + j];
          const n = NN[off + j];
          const dz = d * (HP[off + j] - n) * z * (1 - z);
          const dn = d * (1 - z) * (1 - n * n);
          const dr = dn * UN[off + j] * r * (1 - r);
          GU[go + j] = dz;
          GU[go + H + j] = dr;
          GU[go + 2 * H + j] = dn * r;
          dT[to + j] += dz;
          dT[to + H + j] += dr;
          dT[to + 2 * H + j] += dn;
          dNext[j] = d * z;
        }
        if (c.reset[at]) {
          dNext.fill(0);
          continue;
        }
        for (let k = 0; k < H; k++) {
          let s = dNext[k];
          const ro = k * G;
          for (let j = 0; j < G; j++) s += rT[ro + j] * GU[go + j];
          dNext[k] = s;
        }
      }
    }

    // Weight gradients of the recurrent side, summed over the chunk (states at a reset are zero).
    const N = c.lanes * c.steps;
    const acc = new Float64Array(H);
    for (let j = 0; j < G; j++) {
      acc.fill(0);
      let bsum = 0;
      let n = 0;
      for (; n + 4 <= N; n += 4) {
        const g0 = GU[n * G + j];
        const g1 = GU[(n + 1) * G + j];
        const g2 = GU[(n + 2) * G + j];
        const g3 = GU[(n + 3) * G + j];
        bsum += g0 + g1 + g2 + g3;
        const h0 = n * H;
        for (let k = 0; k < H; k++) acc[k] += g0 * HP[h0 + k] + g1 * HP[h0 + H + k] + g2 * HP[h0 + 2 * H + k] + g3 * HP[h0 + 3 * H + k];
      }
      for (; n < N; n++) {
        const g0 = GU[n * G + j];
        bsum += g0;
        for (let k = 0; k < H; k++) acc[k] += g0 * HP[n * H + k];
      }
      for (let k = 0; k < H; k++) g.r[j * H + k] = acc[k];
      if (j >= 2 * H) g.br[j] = bsum;
    }

    // Input side: from the table's gradient to bw, W and the embedding.
    for (let v = 0; v < V; v++) {
      const vo = v * G;
      const eo = v * E;
      for (let j = 0; j < G; j++) {
        const d = dT[vo + j];
        if (d === 0) continue;
        g.bw[j] += d;
        const wo = j * E;
        for (let k = 0; k < E; k++) {
          g.w[wo + k] += d * p.emb[eo + k];
          g.emb[eo + k] += d * p.w[wo + k];
        }
      }
    }
    return { loss, count };
  }
}

/** Pieces of at most `window` calls of every trace (empty traces give none). */
export function piecesOf(traces: readonly Int32Array[], window: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (const t of traces) for (let i = 0; i < t.length; i += window) out.push(t.subarray(i, Math.min(t.length, i + window)));
  return out;
}

/**
 * Deals pieces (in the given order) to `lanes` streams, each to the shortest so far, and lays
 * the streams out as chunks of `bptt` steps (the last chunk padded with no-loss steps).
 */
export function streamsOf(pieces: readonly Int32Array[], lanes: number, bptt: number): Chunk[] {
  const lists: Int32Array[][] = Array.from({ length: lanes }, () => []);
  const lengths = new Array<number>(lanes).fill(0);
  for (const piece of pieces) {
    let best = 0;
    for (let l = 1; l < lanes; l++) if (lengths[l] < lengths[best]) best = l;
    lists[best].push(piece);
    lengths[best] += piece.length;
  }
  const total = Math.max(...lengths);
  const chunks: Chunk[] = [];
  const flat = lists.map((list) => {
    const input = new Int32Array(total);
    const target = new Int32Array(total).fill(-1);
    const reset = new Uint8Array(total);
    let at = 0;
    for (const piece of list) {
      reset[at] = 1;
      for (let i = 0; i < piece.length; i++, at++) {
        input[at] = i === 0 ? START_TOKEN : piece[i - 1];
        target[at] = piece[i];
      }
    }
    return { input, target, reset };
  });
  for (let s = 0; s < total; s += bptt) {
    const steps = Math.min(bptt, total - s);
    const c: Chunk = { lanes, steps, input: new Int32Array(lanes * steps), target: new Int32Array(lanes * steps), reset: new Uint8Array(lanes * steps) };
    for (let b = 0; b < lanes; b++) {
      c.input.set(flat[b].input.subarray(s, s + steps), b * steps);
      c.target.set(flat[b].target.subarray(s, s + steps), b * steps);
      c.reset.set(flat[b].reset.subarray(s, s + steps), b * steps);
    }
    chunks.push(c);
  }
  return chunks;
}

export interface EpochReport {
  epoch: number;
  /** Mean training loss per call (nats), with dropout. */
  loss: number;
  seconds: number;
}

/** Trains a GRU language model on traces of tokens (all < vocabulary). */
export function trainGru(traces: readonly Int32Array[], vocabulary: number, opts: GruTrainOptions, onEpoch?: (r: EpochReport) => void): GruModel {
  for (const k of ['hidden', 'embedding', 'epochs', 'lanes', 'bptt', 'window'] as const) {
    if (!Number.isInteger(opts[k]) || opts[k] < 1) throw new RangeError(`GRU ${k} must be a whole number >= 1, got ${opts[k]}`);
  }
  if (!(opts.dropout >= 0 && opts.dropout < 1)) throw new RangeError(`GRU dropout must be from 0 to below 1, got ${opts.dropout}`);
  const counts = new Float64Array(vocabulary);
  let calls = 0;
  for (const t of traces) {
    for (let i = 0; i < t.length; i++) counts[t[i]]++;
    calls += t.length;
  }
  const unigram = counts.map((c) => (c + 0.5) / (calls + 0.5 * vocabulary));
  const params = initParams({ vocabulary, embedding: opts.embedding, hidden: opts.hidden }, unigram, opts.seed);
  const next = prng((opts.seed ^ 0x9e3779b9) >>> 0);
  const pieces = piecesOf(traces, opts.window);
  const kernel = new GruKernel(params, opts.lanes, opts.bptt);
  const adam = new Adam<ParamName>(params, PARAM_NAMES);
  const keep = 1 - opts.dropout;
  const masks = new Float32Array(opts.lanes * opts.bptt * opts.hidden);
  const dropout = opts.dropout > 0 ? (i: number): number => masks[i] : undefined;
  let chunksDone = 0;
  let totalChunks = 0;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    const started = performance.now();
    const order = pieces.slice();
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const chunks = streamsOf(order, opts.lanes, opts.bptt);
    if (totalChunks === 0) totalChunks = chunks.length * opts.epochs;
    kernel.state.fill(0);
    let loss = 0;
    let count = 0;
    for (const c of chunks) {
      if (dropout !== undefined) for (let i = 0; i < masks.length; i++) masks[i] = next() < keep ? 1 / keep : 0;
      const r = kernel.run(c, dropout);
      loss += r.loss;
      count += r.count;
      Adam.clip(kernel.grads, PARAM_NAMES, opts.clip);
      // Cosine decay to a tenth of the rate over the whole run.
      const progress = chunksDone / Math.max(1, totalChunks);
      adam.step(kernel.grads, opts.learningRate * (0.1 + 0.45 * (1 + Math.cos(Math.PI * progress))));
      chunksDone++;
    }
    onEpoch?.({ epoch: epoch + 1, loss: count > 0 ? loss / count : 0, seconds: (performance.now() - started) / 1000 });
  }
  return { params, cap: surprisalCap(calls, vocabulary) };
}
