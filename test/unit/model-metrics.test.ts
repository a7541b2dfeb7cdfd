import assert from 'node:assert/strict';
import { test } from 'node:test';
import { atThreshold, farAtDetection, rocAuc, thresholdForFpr } from '../../src/model/metrics.js';

void test('ROC AUC counts pairs: wins 1, ties 1/2', () => {
  // normal [1, 2, 3], attack [2, 4]: pairs (attack > normal): 2>1 yes, 2=2 half, 2>3 no; 4 beats all 3.
  // (1 + 0.5 + 0 + 3) / 6 = 0.75
  assert.equal(rocAuc([1, 2, 3], [2, 4]), 0.75);
  assert.equal(rocAuc([0, 0], [1, 1]), 1);
  assert.equal(rocAuc([1, 1], [0, 0]), 0);
  assert.equal(rocAuc([5, 5, 5], [5, 5]), 0.5);
  assert.ok(Number.isNaN(rocAuc([], [1])));
});

void test('false alarms at 90% detection use the highest threshold that still detects 90%', () => {
  const attack = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]; // 90% = 9 of 10 -> threshold 2
  const normal = [0, 1, 1.5, 2, 2.5, 3, 11, 0.5, 0.2, 0.1]; // >= 2: 2, 2.5, 3, 11 -> 4/10
  const r = farAtDetection(normal, attack, 0.9);
  assert.equal(r.threshold, 2);
  assert.equal(r.far, 0.4);
  // 11 attacks: ceil(9.9) = 10 must be detected
  assert.equal(farAtDetection([0], [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1], 0.9).threshold, 2);
});

void test('precision, recall, f1 and fpr at a threshold (score >= threshold alerts)', () => {
  const m = atThreshold([0.1, 0.5, 0.9, 0.2], [0.5, 0.95, 0.3], 0.5);
  assert.deepEqual({ tp: m.tp, fp: m.fp, tn: m.tn, fn: m.fn }, { tp: 2, fp: 2, tn: 2, fn: 1 });
  assert.equal(m.precision, 0.5);
  assert.equal(m.recall, 2 / 3);
  assert.ok(Math.abs(m.f1 - (2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3)) < 1e-12);
  assert.equal(m.fpr, 0.5);
  const none = atThreshold([0.1], [0.2], 1);
  assert.equal(none.precision, 0);
  assert.equal(none.f1, 0);
});

void test('threshold for a target false-alarm rate flags at most that share of normal scores', () => {
  const normal = Array.from({ length: 100 }, (_, i) => i / 10); // 0.0 .. 9.9
  for (const target of [0, 0.01, 0.05, 0.1, 0.5]) {
    const t = thresholdForFpr(normal, target);
    const flagged = normal.filter((s) => s >= t).length / normal.length;
    assert.ok(flagged <= target + 1e-12, `target ${target}: flagged ${flagged}`);
    assert.ok(flagged >= target - 0.01 - 1e-12, `target ${target}: flagged only ${flagged}`);
  }
  // Ties at the cut are not flagged (flagging them would exceed the target).
  const tied = [1, 1, 1, 1, 0];
  assert.equal(tied.filter((s) => s >= thresholdForFpr(tied, 0.5)).length, 0);
  assert.throws(() => thresholdForFpr([], 0.05), /no normal scores/);
});
