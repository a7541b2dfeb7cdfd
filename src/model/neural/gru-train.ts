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
import { gruStep, initParams, PARAM_NAMES, START_TOKEN, surprisalCap, zeroParams, type GruModel, type GruParams, type ParamName } from './gru-lm.js';

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

/** Working memory and the chunk kernel: loss and gradients of one chunk, state carried over. */
export class GruKernel {
  readonly grads: GruParams;
  /** Current state of each lane [lanes][H]. */
  readonly state: Float32Array;
  private readonly hPrev: Float32Array;
  private readonly hOut: Float32Array;
  private readonly z: Float32Array;
  private readonly r: Float32Array;
  private readonly n: Float32Array;
  private readonly un: Float32Array;
  private readonly dhOut: Float32Array;
  private readonly lg: Float64Array;
  private readonly hd: Float32Array;
  private readonly zeros: Float32Array;

  constructor(readonly params: GruParams, readonly lanes: number, readonly steps: number) {
    const H = params.hidden;
    const cells = lanes * steps * H;
    this.grads = zeroParams(params);
    this.state = new Float32Array(lanes * H);
    this.hPrev = new Float32Array(cells);
    this.hOut = new Float32Array(cells);
    this.z = new Float32Array(cells);
    this.r = new Float32Array(cells);
    this.n = new Float32Array(cells);
    this.un = new Float32Array(cells);
    this.dhOut = new Float32Array(cells);
    this.lg = new Float64Array(params.vocabulary);
    this.hd = new Float32Array(H);
    this.zeros = new Float32Array(H);
  }

  /**
   * Forward and backward over one chunk: fills `grads` (of the mean loss per scored call) and
   * advances `state`. `dropout(lane, step, unit)` gives the mask value of a unit (0 or 1/(1-p));
   * omit it for none. Returns the summed loss and the number of scored calls.
   */
  run(c: Chunk, dropout?: (i: number) => number): { loss: number; count: number } {
    const p = this.params;
    const g = this.grads;
    const H = p.hidden;
    const V = p.vocabulary;
    const E = p.embedding;
    for (const name of PARAM_NAMES) g[name].fill(0);
    let count = 0;
    for (let i = 0; i < c.target.length; i++) if (c.target[i] >= 0) count++;
    const inv = count > 0 ? 1 / count : 0;
    let loss = 0;
    const lg = this.lg;
    const hd = this.hd;
    const mask = new Float32Array(H);

    // Forward, with the output layer's gradient taken at once (it needs no later step).
    for (let b = 0; b < c.lanes; b++) {
      const st = this.state.subarray(b * H, (b + 1) * H);
      for (let t = 0; t < c.steps; t++) {
        const at = b * c.steps + t;
        const off = at * H;
        const hPrev = this.hPrev.subarray(off, off + H);
        if (c.reset[at]) hPrev.fill(0);
        else hPrev.set(st);
        const h = this.hOut.subarray(off, off + H);
        gruStep(p, c.input[at], hPrev, h, { z: this.z.subarray(off, off + H), r: this.r.subarray(off, off + H), n: this.n.subarray(off, off + H), un: this.un.subarray(off, off + H) });
        st.set(h);
        const dh = this.dhOut.subarray(off, off + H);
        const y = c.target[at];
        if (y < 0) {
          dh.fill(0);
          continue;
        }
        for (let k = 0; k < H; k++) {
          mask[k] = dropout === undefined ? 1 : dropout(off + k);
          hd[k] = h[k] * mask[k];
        }
        let max = Number.NEGATIVE_INFINITY;
        for (let v = 0; v < V; v++) {
          let s = p.bo[v];
          const o = v * H;
          for (let k = 0; k < H; k++) s += p.out[o + k] * hd[k];
          lg[v] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let v = 0; v < V; v++) {
          const e = Math.exp(lg[v] - max);
          lg[v] = e;
          sum += e;
        }
        loss += Math.log(sum) - Math.log(lg[y]);
        dh.fill(0);
        const norm = 1 / sum;
        for (let v = 0; v < V; v++) {
          const prob = lg[v] * norm;
          // Calls the model already all but rules out move the weights by almost nothing.
          if (prob < NEGLIGIBLE && v !== y) continue;
          const d = (prob - (v === y ? 1 : 0)) * inv;
          g.bo[v] += d;
          const o = v * H;
          for (let k = 0; k < H; k++) {
            g.out[o + k] += d * hd[k];
            dh[k] += d * p.out[o + k];
          }
        }
        for (let k = 0; k < H; k++) dh[k] *= mask[k];
      }
    }

    // Backward through time, lane by lane.
    const dh = new Float32Array(H);
    const dNext = new Float32Array(H);
    const ga = new Float32Array(3 * H);
    const gu = new Float32Array(3 * H);
    for (let b = 0; b < c.lanes; b++) {
      dNext.fill(0);
      for (let t = c.steps - 1; t >= 0; t--) {
        const at = b * c.steps + t;
        const off = at * H;
        for (let j = 0; j < H; j++) {
          const d = this.dhOut[off + j] + dNext[j];
          dh[j] = d;
          const z = this.z[off + j];
          const r = this.r[off + j];
          const n = this.n[off + j];
          const hp = this.hPrev[off + j];
          const dz = d * (hp - n) * z * (1 - z);
          const dn = d * (1 - z) * (1 - n * n);
          const dr = dn * this.un[off + j] * r * (1 - r);
          ga[j] = dz;
          ga[H + j] = dr;
          ga[2 * H + j] = dn;
          gu[j] = dz;
          gu[H + j] = dr;
          gu[2 * H + j] = dn * r;
        }
        // Input side: W, bw, the embedding row of the input token.
        const eOff = c.input[at] * E;
        for (let j = 0; j < 3 * H; j++) {
          const d = ga[j];
          g.bw[j] += d;
          const wo = j * E;
          for (let k = 0; k < E; k++) {
            g.w[wo + k] += d * p.emb[eOff + k];
            g.emb[eOff + k] += d * p.w[wo + k];
          }
        }
        // Recurrent side: R, br (n gate), and the gradient into the previous state.
        const reset = c.reset[at] === 1;
        for (let j = 2 * H; j < 3 * H; j++) g.br[j] += gu[j];
        for (let k = 0; k < H; k++) dNext[k] = dh[k] * this.z[off + k];
        const hPrev = reset ? this.zeros : this.hPrev.subarray(off, off + H);
        for (let j = 0; j < 3 * H; j++) {
          const d = gu[j];
          const ro = j * H;
          for (let k = 0; k < H; k++) {
            g.r[ro + k] += d * hPrev[k];
            dNext[k] += d * p.r[ro + k];
          }
        }
        if (reset) dNext.fill(0);
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
