import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EnsembleScorer, median, parseMembers, ROBUST_SLOPE, type EnsembleModel } from '../../src/model/families/ensemble.js';
import type { TrainedModel } from '../../src/model/families/family.js';

/** A member whose window score is a fixed function of the window. */
function member(score: (w: Int32Array) => number): TrainedModel {
  const fail = (): never => {
    throw new Error('not used');
  };
  return { family: 'fixed', vocabulary: 10, profiles: 1, scorer: () => ({ score }), toOnnx: fail, emit: fail, describe: () => ({}) };
}

void test('the robust rule: each member shifted by its median, leaky below it, then averaged', () => {
  const model: EnsembleModel = {
    slope: ROBUST_SLOPE,
    members: [
      { model: member((w) => w.length), median: 4 },
      { model: member(() => 1), median: 3 },
    ],
  };
  const s = new EnsembleScorer(model);
  // 6 calls: member 1 is 2 above its median, member 2 is 2 below (counts 0.001 × -2).
  assert.ok(Math.abs(s.score(new Int32Array(6)) - (2 + ROBUST_SLOPE * -2) / 2) < 1e-6);
  // A plain mean (slope 1) is the mean of the shifted scores.
  const mean = new EnsembleScorer({ ...model, slope: 1 });
  assert.ok(Math.abs(mean.score(new Int32Array(6)) - (2 - 2) / 2) < 1e-6);
});

void test('members are family:size lists; medians of odd and even counts', () => {
  assert.deepEqual(parseMembers('gru:64, ngram:6', ['ngram', 'gru']), [
    { family: 'gru', size: 64 },
    { family: 'ngram', size: 6 },
  ]);
  assert.throws(() => parseMembers('gru', ['gru']), /must be family:size/);
  assert.throws(() => parseMembers('lstm:4', ['gru']), /unknown family "lstm"/);
  assert.throws(() => parseMembers(' , ', ['gru']), /at least one member/);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});
