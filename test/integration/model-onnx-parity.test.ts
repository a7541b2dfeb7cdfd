// The exported graphs give the TypeScript scores (within 1e-4) in ONNX Runtime, and padding
// never changes a window's score.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { ngramFamily } from '../../src/model/families/ngram.js';
import { stideFamily } from '../../src/model/families/stide.js';
import type { Family, FamilyOptions } from '../../src/model/families/family.js';
import { gruFamily } from '../../src/model/families/gru.js';
import { ensembleFamily } from '../../src/model/families/ensemble.js';
import { buildMapping, tokenize } from '../../src/model/vocabulary.js';
import { Tokenizer } from '../../src/syscalls/tokenizer.js';
import { generatedTrace } from '../helpers/model-data.js';
import { prng } from '../../src/core/random.js';

async function scoreWithOrt(bytes: Uint8Array, windows: readonly Int32Array[], width: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const data = new BigInt64Array(windows.length * width);
    windows.forEach((w, i) => w.forEach((t, j) => (data[i * width + j] = BigInt(t))));
    const out = await session.run({ syscalls: new ort.Tensor('int64', data, [windows.length, width]) });
    return out.score.data as Float32Array;
  } finally {
    await session.release();
  }
}

const next = prng(21);
const train = Array.from({ length: 50 }, () => ({ source: 't', calls: generatedTrace(next, false, 120) }));
const tok = Tokenizer.fromMapping(buildMapping(train));
const traces = train.map((t) => tokenize(tok, t.calls));
const V = tok.vocabulary;

// Windows of every kind: normal, attack-like (unknown names -> 1), out-of-vocabulary tokens,
// very short ones, a full-width one, and an empty one.
const WIDTH = 48;
const windows: Int32Array[] = [];
for (let i = 0; i < 24; i++) {
  const len = [1, 2, 3, 5, 17, WIDTH][i % 6];
  const calls = generatedTrace(next, i % 2 === 1, len);
  const w = tokenize(tok, calls);
  if (i % 5 === 0) w[Math.floor(len / 2)] = V + 3;
  windows.push(w);
}
windows.push(new Int32Array(0));

const cases: [Family, string, FamilyOptions][] = [
  ...[1, 2, 4, 6].map((order): [Family, string, FamilyOptions] => [ngramFamily, `order ${order}`, { order }]),
  ...[1, 3, 6].map((order): [Family, string, FamilyOptions] => [stideFamily, `order ${order}`, { order }]),
  [gruFamily, 'hidden 8', { hidden: 8, epochs: 2, window: 32 }],
  [ensembleFamily(() => [ngramFamily, gruFamily]), 'gru:8,ngram:3,gru:6', { members: 'gru:8,ngram:3,gru:6', epochs: 2, window: 32 }],
];
for (const [family, label, opts] of cases) {
  void test(`${family.name} ${label}: ONNX Runtime scores equal the TypeScript scores; padding changes nothing`, async () => {
    const model = family.train(traces, V, opts);
    const scorer = model.scorer();
    const expected = windows.map((w) => scorer.score(w));
    const got = await scoreWithOrt(model.toOnnx(WIDTH), windows, WIDTH);
    expected.forEach((e, i) => assert.ok(Math.abs(got[i] - e) <= 1e-4, `window ${i} (length ${windows[i].length}): ORT ${got[i]}, TS ${e}`));
    // The same windows padded to a wider model score the same.
    const wider = await scoreWithOrt(model.toOnnx(WIDTH * 2), windows, WIDTH * 2);
    got.forEach((g, i) => assert.ok(Math.abs(wider[i] - g) <= 1e-6, `window ${i}: width ${WIDTH} ${g}, width ${WIDTH * 2} ${wider[i]}`));
    assert.ok(expected.some((e) => e > 0), 'some windows score above 0');
  });
}
