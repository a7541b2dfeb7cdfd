// Small model folders for the ONNX tests, written with the project's graph builder.
// The standard test model scores a window as the sum of per-token weights (weight[0] = 0,
// so padding never changes a score); variants break one part of the contract each.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, type Dim } from '../../src/model/onnx/builder.js';
import type { ModelCard } from '../../src/core/model-card.js';

export const WEIGHTS = [0, 10, 1, 2.5, 3, 4.25];
export const NAMES = ['read', 'write', 'openat', 'close'];

export interface GraphShape {
  inputName?: string;
  inputType?: 'int64' | 'int32';
  inputDims?: Dim[];
  outputName?: string;
  outputType?: 'float32' | 'float64';
  extraInput?: boolean;
}

/** Bytes of the weighted-sum model, with parts of its interface changed by `shape`. */
export function weightedSumModel(window: number, shape: GraphShape = {}): Uint8Array {
  const g = new GraphBuilder('weighted_sum');
  const dims = shape.inputDims ?? ['batch', window];
  const x = g.input(shape.inputName ?? 'syscalls', shape.inputType ?? 'int64', dims);
  if (shape.extraInput) g.input('extra', 'float32', ['batch']);
  const w = g.constant('weights', 'float32', [WEIGHTS.length], WEIGHTS);
  const e = g.op('Gather', [w, x], { axis: 0 });
  const axes = dims.length === 3 ? [1, 2] : [1];
  let s = g.op('ReduceSum', [e, g.ints(axes, 'axes')], { keepdims: 0 });
  if (shape.outputType === 'float64') s = g.op('Cast', [s], { to: 11 });
  g.output(s, shape.outputType ?? 'float32', ['batch'], shape.outputName ?? 'score');
  return g.toBytes({ opset: 17 });
}

/** The expected score of a window under the weighted-sum model (last `window` tokens). */
export function expectedScore(tokens: ArrayLike<number>, window: number): number {
  let s = 0;
  for (let i = Math.max(0, tokens.length - window); i < tokens.length; i++) s += WEIGHTS[tokens[i]];
  return s;
}

export function testCard(over: Partial<ModelCard> = {}): ModelCard {
  return {
    name: 'weighted-sum-test',
    family: 'test',
    window: 8,
    delta: 4,
    threshold: 20,
    vocabulary: NAMES.length + 2,
    training: { data: 'generated', sha256: '0'.repeat(64), traces: 1, syscalls: 8, abi: 'x64', seed: 1 },
    metrics: {},
    created: '2025-01-01T00:00:00.000Z',
    ...over,
  };
}

export function mappingText(names = NAMES): string {
  return names.map((n, i) => `${n},${i + 2}\n`).join('');
}

export interface FolderParts {
  model?: Uint8Array;
  card?: ModelCard | string;
  mapping?: string;
}

/** A fresh temporary parent folder for a test's model folders. */
export function tempRoot(prefix = 'argos-onnx-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a model folder `root/name`; missing parts default to the standard test model. */
export function writeModelFolder(root: string, name: string, parts: FolderParts = {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const card = parts.card ?? testCard();
  const window = typeof card === 'string' ? 8 : card.window;
  writeFileSync(join(dir, 'model.onnx'), parts.model ?? weightedSumModel(window));
  writeFileSync(join(dir, 'model.json'), typeof card === 'string' ? card : JSON.stringify(card, null, 2));
  writeFileSync(join(dir, 'syscalls.csv'), parts.mapping ?? mappingText());
  return dir;
}
