// Family "ensemble": several members (any family, e.g. GRU language models and an n-gram
// model) in one graph. The combination is the "robust ensemble" of Kim et al. (2016): each
// member's window score is shifted by its median over the training windows and passed
// through a leaky ReLU, so that a member only pulls the ensemble up where it finds the
// window more anomalous than its typical normal window; the ensemble's score is the mean:
//   score = (1/M) Σ_m leaky(s_m − median_m),  leaky(x) = x for x ≥ 0, slope × x below.
// Rule 'mean' (plain averaging of the shifted scores, slope 1) is there for comparison.
// Members that give per-call surprisals (language models) give the ensemble's: their mean.
import { GraphBuilder } from '../onnx/builder.js';
import { piecesOf } from '../neural/gru-train.js';
import { singleModelOnnx, type Family, type FamilyOptions, type GraphInput, type GraphScore, type TrainedModel, type WindowScorer } from './family.js';

export const ENSEMBLE_DEFAULT_MEMBERS = 'gru:64,ngram:6';
/** Slope of the leaky ReLU below a member's median (the paper's value). */
export const ROBUST_SLOPE = 0.001;

export interface MemberSpec {
  family: string;
  /** Order (n-gram, STIDE) or state width (GRU). */
  size: number;
}

/** Parses `gru:64,ngram:6` (family:size, comma-separated). */
export function parseMembers(text: string, known: readonly string[]): MemberSpec[] {
  const specs = text.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (specs.length === 0) throw new RangeError('the ensemble needs at least one member (e.g. --members gru:64,ngram:6)');
  return specs.map((part) => {
    const m = /^([a-z]+):(\d+)$/.exec(part);
    if (m === null) throw new RangeError(`ensemble member "${part}" must be family:size, e.g. gru:64 or ngram:6`);
    if (!known.includes(m[1])) throw new RangeError(`ensemble member "${part}": unknown family "${m[1]}"; use one of ${known.join(', ')}`);
    return { family: m[1], size: Number(m[2]) };
  });
}

export interface EnsembleMember {
  model: TrainedModel;
  /** Median window score of the member over the training data's windows. */
  median: number;
}

export interface EnsembleModel {
  members: EnsembleMember[];
  /** Slope below the median: ROBUST_SLOPE, or 1 for a plain mean. */
  slope: number;
}

export function median(values: ArrayLike<number>): number {
  const s = Array.from(values).sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export class EnsembleScorer implements WindowScorer {
  private readonly scorers: WindowScorer[];
  /** The mean of the members' per-call surprisals, when every member has them (as the graph gives). */
  readonly surprisals?: (tokens: Int32Array, profile?: number) => Float64Array;

  constructor(readonly model: EnsembleModel) {
    this.scorers = model.members.map((m) => m.model.scorer());
    const per = this.scorers.flatMap((s) => (s.surprisals === undefined ? [] : [s.surprisals.bind(s)]));
    if (per.length === this.scorers.length) {
      this.surprisals = (tokens: Int32Array): Float64Array => {
        const sum = new Float64Array(tokens.length);
        for (const f of per) f(tokens).forEach((v, i) => (sum[i] += v));
        return sum.map((v) => v / per.length);
      };
    }
  }

  score(tokens: Int32Array): number {
    let sum = 0;
    this.model.members.forEach((m, i) => {
      const shifted = this.scorers[i].score(tokens) - Math.fround(m.median);
      sum += shifted >= 0 ? shifted : Math.fround(this.model.slope) * shifted;
    });
    return sum / this.model.members.length;
  }
}

/** A member's graph part (trainEnsemble only takes members that have one). */
function emitOf(model: TrainedModel): NonNullable<TrainedModel['emit']> {
  if (model.emit === undefined) throw new RangeError(`a ${model.family} model cannot be an ensemble member (it has no graph part of its own)`);
  return model.emit.bind(model);
}

export function emitEnsemble(g: GraphBuilder, model: EnsembleModel, input: GraphInput): GraphScore {
  const outs = model.members.map((m) => emitOf(m.model)(g, input));
  const shifted = outs.map((o, i) => {
    const s = g.op('Sub', [o.score, g.scalar(model.members[i].median, 'median')]);
    return model.slope === 1 ? s : g.op('LeakyRelu', [s], { alpha: { float: model.slope } });
  });
  const count = g.scalar(model.members.length, 'members');
  const score = g.op('Div', [shifted.length === 1 ? shifted[0] : g.op('Sum', shifted), count]);
  const perCall = outs.flatMap((o) => (o.surprisal === undefined ? [] : [o.surprisal]));
  if (perCall.length < outs.length) return { score };
  return { score, surprisal: g.op('Div', [perCall.length === 1 ? perCall[0] : g.op('Sum', perCall), count]) };
}

/** Trains each member (member i with seed + i) and its median over the training windows. */
export function trainEnsemble(traces: readonly Int32Array[], vocabulary: number, opts: FamilyOptions, families: readonly Family[], slope = ROBUST_SLOPE): EnsembleModel {
  const specs = parseMembers(opts.members ?? ENSEMBLE_DEFAULT_MEMBERS, families.filter((f) => f.name !== 'ensemble').map((f) => f.name));
  const pieces = piecesOf(traces, opts.window ?? 1024);
  const members = specs.map((spec, i): EnsembleMember => {
    const family = families.find((f) => f.name === spec.family);
    if (family === undefined) throw new RangeError(`unknown family ${spec.family}`); // parseMembers checked the name
    const model = family.train(traces, vocabulary, { ...opts, order: spec.size, hidden: spec.size, seed: (opts.seed ?? 1) + i });
    emitOf(model);
    const scorer = model.scorer();
    return { model, median: median(pieces.map((p) => scorer.score(p))) };
  });
  return { members, slope };
}

export function ensembleTrained(model: EnsembleModel, vocabulary: number, specs: string): TrainedModel {
  const emit = (g: GraphBuilder, input: GraphInput): GraphScore => emitEnsemble(g, model, input);
  return {
    family: 'ensemble',
    vocabulary,
    profiles: 1,
    scorer: () => new EnsembleScorer(model),
    toOnnx: (window, onnx) => singleModelOnnx('argos-ensemble', emit, vocabulary, window, { mlOpset: 2, metadata: { family: 'ensemble', members: specs, ...onnx?.metadata } }),
    emit,
    describe: () => {
      const out: Record<string, number> = { members: model.members.length, slope: model.slope };
      model.members.forEach((m, i) => {
        out[`member${i + 1}Median`] = m.median;
        for (const [k, v] of Object.entries(m.model.describe())) out[`member${i + 1}${k[0].toUpperCase()}${k.slice(1)}`] = v;
      });
      return out;
    },
  };
}

/** The ensemble family over the given member families (index.ts passes the others, so this file imports none). */
export function ensembleFamily(families: () => readonly Family[]): Family {
  return {
    name: 'ensemble',
    profiles: false,
    description: `members of the other families combined in one graph by the robust rule (median shift, leaky ReLU, mean); --members, default ${ENSEMBLE_DEFAULT_MEMBERS}`,
    train(traces: readonly Int32Array[], vocabulary: number, opts: FamilyOptions): TrainedModel {
      const model = trainEnsemble(traces, vocabulary, opts, families());
      return ensembleTrained(model, vocabulary, opts.members ?? ENSEMBLE_DEFAULT_MEMBERS);
    },
  };
}
