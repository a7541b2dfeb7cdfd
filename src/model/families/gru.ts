// Family "gru": a GRU language model of syscalls (neural/gru-lm.ts), trained by
// neural/gru-train.ts. Window score = mean surprisal of its calls, each capped; the graph also
// gives each call's surprisal.
//
// In the graph: the input shifted right by one (0 = start of the window) → embedding (Gather)
// → ONNX GRU (linear_before_reset = 1, gates z r h, the same equations as gru-lm.ts) → MatMul
// to the vocabulary → LogSoftmax → the log-probability of each actual call (GatherElements).
import { GraphBuilder } from '../onnx/builder.js';
import { GruScorer, paramCount, type GruModel } from '../neural/gru-lm.js';
import { GRU_DEFAULTS, trainGru, type GruTrainOptions } from '../neural/gru-train.js';
import { meanOfMasked, shiftRight, singleModelOnnx, type Family, type FamilyOptions, type GraphInput, type GraphScore, type TrainedModel } from './family.js';

export function emitGru(g: GraphBuilder, model: GruModel, input: GraphInput): GraphScore {
  const p = model.params;
  const { vocabulary: V, embedding: E, hidden: H } = p;
  const prev = shiftRight(g, input.x, 1, input.zero);
  const e = g.op('Gather', [g.constant('gru_emb', 'float32', [V, E], p.emb), prev], { axis: 0 });
  const seqFirst = g.op('Transpose', [e], { perm: [1, 0, 2] });
  const bias = new Float32Array(6 * H);
  bias.set(p.bw, 0);
  bias.set(p.br, 3 * H);
  const [y] = g.node('GRU', [seqFirst, g.constant('gru_w', 'float32', [1, 3 * H, E], p.w), g.constant('gru_r', 'float32', [1, 3 * H, H], p.r), g.constant('gru_b', 'float32', [1, 6 * H], bias)], { hidden_size: H, linear_before_reset: 1 });
  const states = g.op('Transpose', [g.op('Squeeze', [y, g.ints([1], 'axes')])], { perm: [1, 0, 2] });
  const outT = new Float32Array(H * V);
  for (let v = 0; v < V; v++) for (let k = 0; k < H; k++) outT[k * V + v] = p.out[v * H + k];
  const logits = g.op('Add', [g.op('MatMul', [states, g.constant('gru_out', 'float32', [H, V], outT)]), g.constant('gru_bo', 'float32', [V], p.bo)]);
  const logp = g.op('GatherElements', [g.op('LogSoftmax', [logits], { axis: 2 }), g.op('Unsqueeze', [input.x, g.ints([2], 'axes')])], { axis: 2 });
  const surprisal = g.op('Min', [g.op('Neg', [g.op('Squeeze', [logp, g.ints([2], 'axes')])]), g.scalar(model.cap, 'gru_cap')]);
  const masked = g.op('Mul', [surprisal, input.valid]);
  return { score: meanOfMasked(g, masked, input.valid), surprisal: masked };
}

export function gruToOnnx(model: GruModel, window: number, metadata: Record<string, string> = {}): Uint8Array {
  return singleModelOnnx('argos-gru', (g, input) => emitGru(g, model, input), model.params.vocabulary, window, { metadata: { family: 'gru', hidden: String(model.params.hidden), ...metadata } });
}

/** Training options of the family from the command's options. */
export function gruOptions(opts: FamilyOptions): GruTrainOptions {
  return {
    ...GRU_DEFAULTS,
    ...(opts.hidden === undefined ? {} : { hidden: opts.hidden }),
    ...(opts.epochs === undefined ? {} : { epochs: opts.epochs }),
    ...(opts.window === undefined ? {} : { window: opts.window }),
    ...(opts.seed === undefined ? {} : { seed: opts.seed }),
  };
}

export function gruTrained(model: GruModel, options: GruTrainOptions): TrainedModel {
  return {
    family: 'gru',
    vocabulary: model.params.vocabulary,
    profiles: 1,
    scorer: () => new GruScorer(model),
    toOnnx: (window, onnx) => gruToOnnx(model, window, onnx?.metadata),
    emit: (g, input) => emitGru(g, model, input),
    describe: () => ({ hidden: model.params.hidden, embedding: model.params.embedding, epochs: options.epochs, weights: paramCount(model.params) }),
  };
}

export const gruFamily: Family = {
  name: 'gru',
  description: 'GRU language model of syscalls (trained here, on the CPU); window score = mean surprisal',
  profiles: false,
  train(traces: readonly Int32Array[], vocabulary: number, opts: FamilyOptions): TrainedModel {
    const options = gruOptions(opts);
    const model = trainGru(traces, vocabulary, options, opts.onEpoch === undefined ? undefined : (r) => opts.onEpoch?.(r.epoch, r.loss));
    return gruTrained(model, options);
  },
};
