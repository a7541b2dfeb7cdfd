// The model contract as ONNX Runtime sees it: the graph's inputs and outputs, checked against
// the card when a model is opened (DESIGN.md "Model contract").
import type { InferenceSession } from 'onnxruntime-node';
import type { ModelCard } from '../../core/model-card.js';
import { ModelError } from '../../model/folder.js';

export const INPUT_NAME = 'syscalls';
export const PROFILE_INPUT = 'profile';
export const OUTPUT_NAME = 'score';
export const SURPRISAL_OUTPUT = 'surprisal';

/** The slice of session metadata the contract check needs (plain data, so a worker can send it). */
export interface IoInfo {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: readonly (number | string)[];
}

/** What a model offers beyond the required input and output. */
export interface ModelIo {
  /** The graph takes `profile` int64 [batch]. */
  profiles: boolean;
  /** The graph gives `surprisal` float32 [batch, window]. */
  surprisal: boolean;
}

function describe(info: IoInfo): string {
  if (!info.isTensor) return `"${info.name}" (not a tensor)`;
  return `"${info.name}" ${info.type ?? '?'} [${(info.shape ?? []).join(', ')}]`;
}

const FIX = 'the model must take "syscalls" int64 [batch, window] (and optionally "profile" int64 [batch]) and give "score" float32 [batch] (and optionally "surprisal" float32 [batch, window]); export it with "argos train"';

function checkRank(info: IoInfo, rank: number, what: string, source: string): void {
  const shape = info.shape ?? [];
  if (shape.length !== 0 && shape.length !== rank) throw new ModelError(`${source}: ${what} ${describe(info)} has rank ${shape.length}, expected ${rank}; ${FIX}`);
}

/** Checks a session's inputs and outputs against the model contract and the card. */
export function checkModelIo(inputs: readonly IoInfo[], outputs: readonly IoInfo[], card: ModelCard, source: string): ModelIo {
  const input = inputs.find((i) => i.name === INPUT_NAME);
  const profile = inputs.find((i) => i.name === PROFILE_INPUT);
  const expected = 1 + (profile === undefined ? 0 : 1);
  if (input === undefined || inputs.length !== expected) {
    throw new ModelError(`${source}: the model's inputs are ${inputs.map(describe).join(', ') || 'none'}, expected exactly one named "${INPUT_NAME}" and optionally one named "${PROFILE_INPUT}"; ${FIX}`);
  }
  if (!input.isTensor || input.type !== 'int64') throw new ModelError(`${source}: input ${describe(input)} must be an int64 tensor; ${FIX}`);
  const shape = input.shape ?? [];
  if (shape.length !== 0) {
    checkRank(input, 2, 'input', source);
    const [batch, window] = shape;
    if (typeof batch === 'number' && batch !== -1) throw new ModelError(`${source}: input ${describe(input)} has a fixed batch size ${batch}; the batch dimension must be symbolic; ${FIX}`);
    if (typeof window === 'number' && window !== -1 && window !== card.window) {
      throw new ModelError(`${source}: input ${describe(input)} takes windows of ${window} but the model card says window ${card.window}; use the model.json trained with this model`);
    }
  }
  if (profile !== undefined) {
    if (!profile.isTensor || profile.type !== 'int64') throw new ModelError(`${source}: input ${describe(profile)} must be an int64 tensor; ${FIX}`);
    checkRank(profile, 1, 'input', source);
    if (card.profiles === undefined) throw new ModelError(`${source}: the model takes a "${PROFILE_INPUT}" input but ${card.name}'s card lists no profiles; use the model.json trained with this model`);
  } else if (card.profiles !== undefined) {
    throw new ModelError(`${source}: the card of ${card.name} lists ${card.profiles.length} profiles but the model takes no "${PROFILE_INPUT}" input; use the model.onnx trained with this card`);
  }
  const output = outputs.find((o) => o.name === OUTPUT_NAME);
  if (output === undefined) throw new ModelError(`${source}: the model's outputs are ${outputs.map(describe).join(', ') || 'none'}, none named "${OUTPUT_NAME}"; ${FIX}`);
  if (!output.isTensor || output.type !== 'float32') throw new ModelError(`${source}: output ${describe(output)} must be a float32 tensor; ${FIX}`);
  checkRank(output, 1, 'output', source);
  const surprisal = outputs.find((o) => o.name === SURPRISAL_OUTPUT);
  if (surprisal !== undefined) {
    if (!surprisal.isTensor || surprisal.type !== 'float32') throw new ModelError(`${source}: output ${describe(surprisal)} must be a float32 tensor; ${FIX}`);
    checkRank(surprisal, 2, 'output', source);
  }
  return { profiles: profile !== undefined, surprisal: surprisal !== undefined };
}

export function ioInfo(meta: readonly InferenceSession.ValueMetadata[]): IoInfo[] {
  return meta.map((m) => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false }));
}
