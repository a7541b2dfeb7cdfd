// Family "stide": the sequence time-delay embedding of Forrest et al. The model is the set of
// length-n call sequences seen in training; a window's score is the share of its length-n
// sequences that were never seen (positions with fewer than n-1 calls before them in the
// window are not judged, so padding cannot change a score). A window shorter than n scores 0.
import { GraphBuilder } from '../onnx/builder.js';
import { checkOrder, clampToVocabulary, gramKey, keyAt, keyedInput, maskedMean, singleModelOnnx, unpadded, type Family, type FamilyOptions, type GraphInput, type GraphScore, type TrainedModel, type WindowScorer } from './family.js';

export const STIDE_DEFAULT_ORDER = 6;

export interface StideModel {
  order: number;
  vocabulary: number;
  /** Sorted keys of the seen sequences. */
  keys: number[];
}

export function trainStide(traces: readonly Int32Array[], vocabulary: number, order: number): StideModel {
  checkOrder(order, vocabulary, 'stide');
  const seen = new Set<number>();
  for (const t of traces) for (let i = order - 1; i < t.length; i++) seen.add(keyAt(t, i, order, vocabulary));
  return { order, vocabulary, keys: [...seen].sort((a, b) => a - b) };
}

export class StideScorer implements WindowScorer {
  private readonly seen: Set<number>;
  constructor(readonly model: StideModel) {
    this.seen = new Set(model.keys);
  }

  score(window: Int32Array): number {
    const t = clampToVocabulary(unpadded(window), this.model.vocabulary);
    const n = this.model.order;
    let unseen = 0;
    let judged = 0;
    for (let i = n - 1; i < t.length; i++) {
      judged++;
      if (!this.seen.has(keyAt(t, i, n, this.model.vocabulary))) unseen++;
    }
    return judged === 0 ? 0 : unseen / judged;
  }
}

/** The model's scoring in a graph that has the input: the share of unseen sequences among the judged positions. */
export function emitStide(g: GraphBuilder, model: StideModel, input: GraphInput): GraphScore {
  const V = model.vocabulary;
  const { x, valid, shifted, contexts, zero } = keyedInput(g, V, input.window, model.order - 1, input);
  let unseen: string;
  let judged = valid;
  if (model.order === 1) {
    const seen = new Float32Array(V);
    for (const k of model.keys) seen[k] = 1;
    unseen = g.op('Sub', [g.scalar(1, 'one_f'), g.op('Gather', [g.constant('seen', 'float32', [V], seen), x], { axis: 0 })]);
  } else {
    const key = gramKey(g, contexts[model.order - 2], x, V);
    unseen = g.op('LabelEncoder', [key], { keys_int64s: model.keys, values_floats: { floats: model.keys.map(() => 0) }, default_float: { float: 1 } }, 'ai.onnx.ml');
    // Judged: a real call with a real call n-1 positions before it.
    const full = g.op('Cast', [g.op('Not', [g.op('Equal', [shifted[model.order - 2], zero])])], { to: 1 });
    judged = g.op('Mul', [valid, full]);
  }
  return { score: maskedMean(g, unseen, judged) };
}

export function stideToOnnx(model: StideModel, window: number, metadata: Record<string, string> = {}): Uint8Array {
  return singleModelOnnx('argos-stide', (g, input) => emitStide(g, model, input), model.vocabulary, window, { mlOpset: 2, metadata: { family: 'stide', order: String(model.order), ...metadata } });
}

export const stideFamily: Family = {
  name: 'stide',
  description: 'STIDE: share of never-seen call sequences of length n in the window',
  profiles: false,
  train(traces: readonly Int32Array[], vocabulary: number, opts: FamilyOptions): TrainedModel {
    const model = trainStide(traces, vocabulary, opts.order ?? STIDE_DEFAULT_ORDER);
    return {
      family: 'stide',
      vocabulary,
      profiles: 1,
      scorer: () => new StideScorer(model),
      toOnnx: (window, onnx) => stideToOnnx(model, window, onnx?.metadata),
      emit: (g, input) => emitStide(g, model, input),
      describe: () => ({ order: model.order, sequences: model.keys.length }),
    };
  },
};
