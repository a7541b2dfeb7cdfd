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

for (const [family, orders] of [[ngramFamily, [1, 2, 4, 6]], [stideFamily, [1, 3, 6]]] as [Family, number[]][]) {
  for (const order of orders) {
    void test(`${family.name} order ${order}: ONNX Runtime scores equal the TypeScript scores; padding changes nothing`, async () => {
      const model = family.train(traces, V, { order });
      const scorer = model.scorer();
      const expected = windows.map((w) => scorer.score(w));
      const got = await scoreWithOrt(model.toOnnx(WIDTH), windows, WIDTH);
      expected.forEach((e, i) => assert.ok(Math.abs(got[i] - e) <= 1e-4, `window ${i} (length ${windows[i].length}): ORT ${got[i]}, TS ${e}`));
      // The same windows padded to a wider model score the same.
      const wider = await scoreWithOrt(model.toOnnx(WIDTH * 2), windows, WIDTH * 2);
      got.forEach((g, i) => assert.equal(wider[i], g, `window ${i}: width ${WIDTH} ${g}, width ${WIDTH * 2} ${wider[i]}`));
      assert.ok(expected.some((e) => e > 0), 'some windows score above 0');
    });
  }
}

// The neural language model and ensembles (float arithmetic in another order than the
// TypeScript scorer: a wider window may move a score in its last bits); both give each call's
// surprisal too.
const neural: [Family, string, FamilyOptions][] = [
  [gruFamily, 'hidden 8', { hidden: 8, epochs: 2, window: 32 }],
  [ensembleFamily(() => [ngramFamily, stideFamily, gruFamily]), 'gru:8,ngram:3,gru:6', { members: 'gru:8,ngram:3,gru:6', epochs: 2, window: 32 }],
];
for (const [family, label, opts] of neural) {
  void test(`${family.name} ${label}: ONNX Runtime scores and surprisals equal the TypeScript ones; padding changes nothing`, async () => {
    const model = family.train(traces, V, opts);
    const scorer = model.scorer();
    const expected = windows.map((w) => scorer.score(w));
    const session = await ort.InferenceSession.create(model.toOnnx(WIDTH));
    try {
      assert.deepEqual(session.outputNames, ['score', 'surprisal']);
      const data = new BigInt64Array(windows.length * WIDTH);
      windows.forEach((w, i) => w.forEach((t, j) => (data[i * WIDTH + j] = BigInt(t))));
      const out = await session.run({ syscalls: new ort.Tensor('int64', data, [windows.length, WIDTH]) });
      const got = out.score.data as Float32Array;
      const surprisal = out.surprisal.data as Float32Array;
      expected.forEach((e, i) => assert.ok(Math.abs(got[i] - e) <= 1e-4, `window ${i} (length ${windows[i].length}): ORT ${got[i]}, TS ${e}`));
      // Each call's surprisal as the TypeScript scorer gives it, 0 on padding.
      windows.forEach((w, i) => {
        const want = scorer.surprisals?.(w) ?? new Float64Array(0);
        assert.equal(want.length, w.length);
        for (let j = 0; j < WIDTH; j++) {
          const expect = j < w.length ? want[j] : 0;
          assert.ok(Math.abs(surprisal[i * WIDTH + j] - expect) <= 1e-4, `window ${i} call ${j}: ORT ${surprisal[i * WIDTH + j]}, TS ${expect}`);
        }
      });
      const wider = await scoreWithOrt(model.toOnnx(WIDTH * 2), windows, WIDTH * 2);
      got.forEach((g, i) => assert.ok(Math.abs(wider[i] - g) <= 1e-6, `window ${i}: width ${WIDTH} ${g}, width ${WIDTH * 2} ${wider[i]}`));
    } finally {
      await session.release();
    }
  });
}

void test('ngram with profiles: ONNX Runtime gives each profile\'s score over its threshold, and every call\'s surprisal', async () => {
  // Two "programs": the even and the odd training traces.
  const of = Int32Array.from(traces, (_, i) => 1 + (i % 2));
  const model = ngramFamily.train(traces, V, { order: 4, profiles: { of, count: 3 } });
  const thresholds = Float64Array.from([2.5, 0.7, 1.3]);
  const scorer = model.scorer();
  const session = await ort.InferenceSession.create(model.toOnnx(WIDTH, { thresholds }));
  try {
    assert.deepEqual(session.inputNames, ['syscalls', 'profile']);
    assert.deepEqual(session.outputNames, ['score', 'surprisal']);
    const profiles = windows.map((_, i) => i % 3);
    const data = new BigInt64Array(windows.length * WIDTH);
    windows.forEach((w, i) => w.forEach((t, j) => (data[i * WIDTH + j] = BigInt(t))));
    const out = await session.run({
      syscalls: new ort.Tensor('int64', data, [windows.length, WIDTH]),
      profile: new ort.Tensor('int64', BigInt64Array.from(profiles, (p) => BigInt(p)), [windows.length]),
    });
    const scores = out.score.data as Float32Array;
    const surprisal = out.surprisal.data as Float32Array;
    windows.forEach((w, i) => {
      const p = profiles[i];
      const expected = scorer.score(w, p) / Math.fround(thresholds[p]);
      assert.ok(Math.abs(scores[i] - expected) <= 1e-4, `window ${i}, profile ${p}: ORT ${scores[i]}, TS ${expected}`);
      const calls = scorer.surprisals?.(w.subarray(0, w.indexOf(0) < 0 ? w.length : w.indexOf(0)), p) ?? new Float64Array(0);
      for (let j = 0; j < WIDTH; j++) {
        const want = j < calls.length ? calls[j] : 0;
        assert.ok(Math.abs(surprisal[i * WIDTH + j] - want) <= 1e-4, `window ${i} call ${j}: ORT ${surprisal[i * WIDTH + j]}, TS ${want}`);
      }
    });
    assert.ok(new Set(profiles.map((p, i) => Math.round(scores[i] * Math.fround(thresholds[p]) * 1e3))).size > 3, 'profiles score differently');
  } finally {
    await session.release();
  }
});
