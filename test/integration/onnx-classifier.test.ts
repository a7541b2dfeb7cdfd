// Real ONNX Runtime over small models built with the graph builder.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { loadModel, ModelError } from '../../src/model/folder.js';
import { OnnxClassifier, packWindows } from '../../src/detector/onnx-classifier.js';
import { expectedScore, tempRoot, testCard, weightedSumModel, writeModelFolder, type GraphShape } from './onnx-models.js';

const root = tempRoot();
after(() => rmSync(root, { recursive: true, force: true }));

/** A seeded generator, so failures reproduce. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomWindows(count: number, maxLen: number, seed: number): Int32Array[] {
  const rnd = lcg(seed);
  return Array.from({ length: count }, () => Int32Array.from({ length: 1 + Math.floor(rnd() * maxLen) }, () => 1 + Math.floor(rnd() * 5)));
}

function assertScores(actual: Float32Array, windows: readonly Int32Array[], window: number): void {
  assert.equal(actual.length, windows.length);
  for (let i = 0; i < windows.length; i++) {
    const want = expectedScore(windows[i], window);
    assert.ok(Math.abs(actual[i] - want) < 1e-4, `window ${i}: got ${actual[i]}, want ${want}`);
  }
}

void test('packWindows zero-pads short windows and keeps the last tokens of long ones', () => {
  const packed = packWindows([Int32Array.from([3, 4]), Int32Array.from([1, 2, 3, 4, 5, 6])], 4);
  assert.deepEqual([...packed], [3n, 4n, 0n, 0n, 3n, 4n, 5n, 6n]);
  assert.deepEqual([...packWindows([Int32Array.from([2147483647])], 2)], [2147483647n, 0n]);
});

void test('packWindows into a used buffer clears what the last batch left, and refuses one too small', () => {
  const buffer = new ArrayBuffer(3 * 4 * 8);
  packWindows([Int32Array.from([9, 9, 9, 9]), Int32Array.from([9, 9, 9, 9]), Int32Array.from([9, 9, 9, 9])], 4, buffer);
  const again = packWindows([Int32Array.from([1]), Int32Array.from([2, 3])], 4, buffer);
  assert.equal(again.buffer, buffer);
  assert.deepEqual([...again], [1n, 0n, 0n, 0n, 2n, 3n, 0n, 0n]);
  assert.throws(() => packWindows([Int32Array.from([1]), Int32Array.from([1])], 4, new ArrayBuffer(32)), /holds 4 values, 8 needed/);
});

for (const mode of ['inline', 'worker'] as const) {
  void test(`${mode}: scores batches of 1 and 64, full and padded windows`, async () => {
    const dir = writeModelFolder(root, `ok-${mode}`, { card: testCard({ window: 16 }) });
    const c = await OnnxClassifier.open(await loadModel({ dir }), { mode, workers: 2 });
    try {
      assert.equal(c.concurrency, mode === 'worker' ? 2 : 1);
      const one = [Int32Array.from([1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5])];
      assertScores(await c.score(one), one, 16);
      const batch = randomWindows(64, 24, 7);
      assertScores(await c.score(batch), batch, 16);
      // Padding does not change a score: the same tokens alone and padded give the same result.
      const short = Int32Array.from([2, 3]);
      const [alone] = await c.score([short]);
      const mixed = await c.score([Int32Array.from([5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5]), short]);
      assert.equal(mixed[1], alone);
      assert.equal((await c.score([])).length, 0);
      // The packed input buffers come back for the next batches (padding above ran on reused ones).
      assert.ok(c.spareBuffers >= 1, `spare buffers: ${c.spareBuffers}`);
      // Calls overlap safely: each gets its own windows' scores back.
      const sets = [randomWindows(64, 16, 1), randomWindows(5, 16, 2), randomWindows(33, 16, 3)];
      const results = await Promise.all(sets.map((s) => c.score(s)));
      sets.forEach((s, i) => assertScores(results[i], s, 16));
    } finally {
      await c.close();
    }
    await assert.rejects(c.score([Int32Array.from([1])]), /closed/);
  });
}

async function refused(model: Uint8Array | undefined, cardWindow: number, mode: 'inline' | 'worker', name: string): Promise<string> {
  const dir = writeModelFolder(root, name, { model, card: testCard({ window: cardWindow }) });
  const loaded = await loadModel({ dir });
  try {
    const c = await OnnxClassifier.open(loaded, { mode });
    await c.close();
  } catch (e) {
    assert.ok(e instanceof ModelError, `expected a ModelError, got ${String(e)}`);
    assert.ok(e.message.startsWith(`${dir}/model.onnx: `), e.message);
    return e.message;
  }
  assert.fail(`${name}: the model was accepted`);
}

const BAD: { name: string; shape?: GraphShape; bytes?: Uint8Array; cardWindow?: number; expect: RegExp }[] = [
  { name: 'not-onnx', bytes: new TextEncoder().encode('read,2\nwrite,3\n'), expect: /ONNX Runtime cannot open this model \(.+\); set TRAINED_MODEL_PATH/ },
  { name: 'input-name', shape: { inputName: 'tokens' }, expect: /inputs are "tokens" int64 \[batch, 8\], expected exactly one named "syscalls"/ },
  { name: 'two-inputs', shape: { extraInput: true }, expect: /expected exactly one named "syscalls"/ },
  { name: 'input-int32', shape: { inputType: 'int32' }, expect: /input "syscalls" int32 \[batch, 8\] must be an int64 tensor/ },
  { name: 'input-rank', shape: { inputDims: ['batch', 8, 1] }, expect: /has rank 3, expected 2/ },
  { name: 'fixed-batch', shape: { inputDims: [1, 8] }, expect: /fixed batch size 1/ },
  { name: 'window-mismatch', shape: { inputDims: ['batch', 16] }, cardWindow: 8, expect: /takes windows of 16 but the model card says window 8/ },
  { name: 'output-name', shape: { outputName: 'anomaly' }, expect: /outputs are "anomaly" float32 \[batch\], none named "score"/ },
  { name: 'output-float64', shape: { outputType: 'float64' }, expect: /output "score" float64 \[batch\] must be a float32 tensor/ },
];

for (const bad of BAD) {
  void test(`inline: the bad model "${bad.name}" is refused with a clear error`, async () => {
    const msg = await refused(bad.bytes ?? weightedSumModel(8, bad.shape), bad.cardWindow ?? 8, 'inline', `bad-${bad.name}`);
    assert.match(msg, bad.expect);
    assert.doesNotMatch(msg, /\n\s+at /, 'no stack trace');
  });
}

void test('worker: model errors cross the thread boundary as ModelErrors', async () => {
  assert.match(await refused(new Uint8Array([1, 2, 3, 4]), 8, 'worker', 'w-not-onnx'), /ONNX Runtime cannot open this model/);
  assert.match(await refused(weightedSumModel(8, { inputName: 'x' }), 8, 'worker', 'w-input-name'), /expected exactly one named "syscalls"/);
});

void test('worker mode: a worker thread that dies is started again with backoff; only its batch is lost', async () => {
  const dir = writeModelFolder(root, 'fragile', { model: weightedSumModel(8), card: testCard({ window: 8 }) });
  const tsx = import.meta.resolve('tsx/esm/api');
  const fragile = new URL('../fixtures/fragile-worker.ts', import.meta.url).href;
  // The worker loads tsx's hooks first (as the classifier does for its own worker from sources).
  const boot = new URL(`data:text/javascript,${encodeURIComponent(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(fragile)}); });`)}`);
  const c = await OnnxClassifier.open(await loadModel({ dir }), { mode: 'worker', workers: 1, workerUrl: boot, backoff: { initialMs: 20, maxMs: 20 } });
  try {
    const windows = randomWindows(4, 8, 9);
    assertScores(await c.score(windows), windows, 8);
    await assert.rejects(c.score(windows), /worker thread ended/);
    for (let i = 0; i < 500 && c.health().restarts === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(c.health(), { restarts: 1, dead: 0, engines: 1 });
    assertScores(await c.score(windows), windows, 8);
  } finally {
    await c.close();
  }
});
