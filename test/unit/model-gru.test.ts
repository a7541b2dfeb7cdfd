import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GruKernel, piecesOf, streamsOf, trainGru, GRU_DEFAULTS } from '../../src/model/neural/gru-train.js';
import { GruScorer, initParams, PARAM_NAMES, type GruParams } from '../../src/model/neural/gru-lm.js';
import { prng } from '../../src/core/random.js';

function tinyParams(seed: number): GruParams {
  const V = 7;
  const p = initParams({ vocabulary: V, embedding: 3, hidden: 4 }, new Float64Array(V).fill(1 / V), seed);
  // Non-zero recurrent biases, so every parameter's gradient is exercised.
  const next = prng(seed + 1);
  for (let i = 0; i < p.br.length; i++) p.br[i] = next() - 0.5;
  for (let i = 0; i < p.bw.length; i++) p.bw[i] = next() - 0.5;
  return p;
}

function chunkOf(): ReturnType<typeof streamsOf>[number] {
  const next = prng(5);
  const traces = Array.from({ length: 5 }, (_, i) => Int32Array.from({ length: 3 + i * 2 }, () => 1 + Math.floor(next() * 6)));
  const chunks = streamsOf(piecesOf(traces, 6), 2, 64);
  assert.equal(chunks.length, 1);
  return chunks[0];
}

void test('GRU gradients match finite differences of the loss', () => {
  const p = tinyParams(3);
  const chunk = chunkOf();
  const kernel = new GruKernel(p, chunk.lanes, chunk.steps);
  const lossAt = (): number => {
    kernel.state.fill(0);
    const r = new GruKernel(p, chunk.lanes, chunk.steps).run(chunk);
    return r.loss / r.count;
  };
  kernel.state.fill(0);
  kernel.run(chunk);
  const eps = 1e-3;
  let checked = 0;
  for (const name of PARAM_NAMES) {
    const a = p[name];
    for (let i = 0; i < a.length; i += Math.max(1, Math.floor(a.length / 6))) {
      const keep = a[i];
      a[i] = keep + eps;
      const up = lossAt();
      a[i] = keep - eps;
      const down = lossAt();
      a[i] = keep;
      const numeric = (up - down) / (2 * eps);
      const analytic = kernel.grads[name][i];
      assert.ok(Math.abs(numeric - analytic) <= 2e-3 * Math.max(1, Math.abs(numeric)), `${name}[${i}]: finite difference ${numeric}, gradient ${analytic}`);
      checked++;
    }
  }
  assert.ok(checked > 30);
});

void test('the kernel loss equals the scorer surprisal of the same pieces (state reset per piece)', () => {
  const p = tinyParams(4);
  const chunk = chunkOf();
  const r = new GruKernel(p, chunk.lanes, chunk.steps).run(chunk);
  const next = prng(5);
  const traces = Array.from({ length: 5 }, (_, i) => Int32Array.from({ length: 3 + i * 2 }, () => 1 + Math.floor(next() * 6)));
  const scorer = new GruScorer({ params: p, cap: 1e9 });
  let total = 0;
  for (const piece of piecesOf(traces, 6)) total += scorer.surprisals(piece).reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(total - r.loss) < 1e-3, `kernel ${r.loss}, scorer ${total}`);
});

void test('GRU training lowers the loss and is deterministic', () => {
  const next = prng(9);
  const patterns = [[2, 3, 4, 5], [6, 7, 2], [8, 9, 10, 3, 4]];
  const traces = Array.from({ length: 20 }, () => {
    const out: number[] = [];
    while (out.length < 60) out.push(...patterns[Math.floor(next() * patterns.length)]);
    return Int32Array.from(out);
  });
  const opts = { ...GRU_DEFAULTS, hidden: 8, embedding: 4, epochs: 4, lanes: 4, bptt: 16, window: 32, learningRate: 0.02 };
  const losses: number[] = [];
  const a = trainGru(traces, 11, opts, (e) => losses.push(e.loss));
  assert.ok(losses[losses.length - 1] < losses[0] * 0.7, `losses ${losses.join(', ')}`);
  const b = trainGru(traces, 11, opts);
  for (const name of PARAM_NAMES) assert.deepEqual(a.params[name], b.params[name]);
});
