// The detector over a real ONNX classifier in worker threads: a burst bigger than the queue
// is partly shed (and counted), everything accepted is scored correctly, nothing is lost.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { loadModel } from '../../src/model/folder.js';
import { OnnxClassifier } from '../../src/detector/onnx-classifier.js';
import { Detector } from '../../src/detector/detector.js';
import { Counters } from '../../src/core/counters.js';
import { silentLogger } from '../../src/core/logger.js';
import type { SyscallWindow, Verdict } from '../../src/core/types.js';
import { expectedScore, tempRoot, testCard, writeModelFolder } from './onnx-models.js';

const root = tempRoot();
after(() => rmSync(root, { recursive: true, force: true }));

function windowOf(i: number): SyscallWindow {
  const tokens = Int32Array.from({ length: 1 + (i % 32) }, (_, j) => 1 + ((i + j) % 5));
  return { process: { execId: `exec-${i % 50}`, pid: 1000 + (i % 50), binary: '/usr/bin/x', arguments: '' }, tokens, seq: i, final: i % 32 === 0, at: i };
}

void test('a burst beyond the queue is shed and counted; every accepted window gets its own score', async () => {
  const dir = writeModelFolder(root, 'model', { card: testCard({ window: 32, delta: 8 }) });
  const classifier = await OnnxClassifier.open(await loadModel({ dir }), { mode: 'worker', workers: 2 });
  const counters = new Counters();
  const verdicts: Verdict[] = [];
  const sizes: number[] = [];
  const detector = new Detector({
    classifier,
    sink: { verdict: (v) => void verdicts.push(v) },
    counters,
    log: silentLogger(),
    batchSize: 64,
    queueMax: 256,
    maxInFlight: classifier.concurrency + 1,
    onBatch: (_ms, size) => void sizes.push(size),
  });
  await detector.start();
  const total = 5000;
  let maxQueued = 0;
  for (let i = 0; i < total; i++) {
    detector.window(windowOf(i));
    maxQueued = Math.max(maxQueued, detector.queued);
  }
  assert.ok(maxQueued <= 256, 'the queue never grows past queueMax');
  assert.ok(counters.shed > 0, 'a synchronous burst of 5000 into a queue of 256 sheds');
  assert.equal(await detector.drain(30_000), true);
  await detector.stop();
  assert.equal(counters.classified + counters.shed, total, 'every window is either classified or counted as shed');
  assert.equal(counters.classifyFailed, 0);
  assert.equal(verdicts.length, counters.classified);
  for (const v of verdicts) {
    const want = expectedScore(v.window.tokens, 32);
    assert.ok(Math.abs(v.score - want) < 1e-4, `window ${v.window.seq}: got ${v.score}, want ${want}`);
  }
  assert.ok(sizes.every((s) => s >= 1 && s <= 64));
  assert.equal(sizes.reduce((a, b) => a + b, 0), counters.classified);
  // After stop, the classifier is closed and late windows are shed, not queued.
  detector.window(windowOf(0));
  assert.equal(detector.queued, 0);
});

void test('windows trickling in are classified promptly in small batches', async () => {
  const dir = writeModelFolder(root, 'trickle', { card: testCard({ window: 32, delta: 8 }) });
  const classifier = await OnnxClassifier.open(await loadModel({ dir }), { mode: 'worker', workers: 1 });
  const counters = new Counters();
  const verdicts: Verdict[] = [];
  const detector = new Detector({ classifier, sink: { verdict: (v) => void verdicts.push(v) }, counters, log: silentLogger(), batchSize: 64, queueMax: 256 });
  await detector.start();
  for (let i = 0; i < 5; i++) {
    detector.window(windowOf(i));
    // Each window is scored on its own without waiting for a batch to fill.
    assert.equal(await detector.drain(10_000), true);
    assert.equal(verdicts.length, i + 1);
  }
  assert.equal(detector.stats.batches, 5);
  await detector.stop();
});
