import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { tokenNames, whyOf } from '../../src/detector/why.js';

const names = tokenNames(new Map([['read', 2], ['socket', 3], ['connect', 4], ['dup2', 5], ['execve', 6]]));

void test('the most surprising calls, each with the calls before it, most surprising first', () => {
  const tokens = Int32Array.from([2, 2, 3, 4, 5, 5, 6, 2, 1, 2, 2, 2, 3]);
  const s = Float32Array.from([0.1, 0.1, 2, 3, 4, 4.5, 9.1, 0.2, 8, 0.1, 0.1, 0.3, 6]);
  assert.deepEqual(whyOf(tokens, s, names), [
    { calls: 'socket connect dup2 dup2 execve', surprisal: 9.1 },
    { calls: 'dup2 dup2 execve read unknown', surprisal: 8 },
    { calls: 'unknown read read read socket', surprisal: 6 },
  ]);
  assert.deepEqual(whyOf(tokens, s, names, { top: 5 }).length, 3, 'calls less surprising than the window on average are not why');
});

void test('calls inside a context already shown are skipped; nothing surprising, nothing said', () => {
  const tokens = Int32Array.from([2, 3, 4]);
  assert.deepEqual(whyOf(tokens, Float32Array.from([5, 6, 7]), names, { top: 3, context: 3 }), [{ calls: 'read socket connect', surprisal: 7 }]);
  assert.deepEqual(whyOf(tokens, Float32Array.from([0, 0, 0]), names), []);
});

void test('surprisals of a window longer than the model belong to its last calls', () => {
  const tokens = Int32Array.from([6, 6, 3, 4]);
  assert.deepEqual(whyOf(tokens, Float32Array.from([1, 5]), names, { top: 1, context: 2 }), [{ calls: 'socket connect', surprisal: 5 }]);
});

/** The rule written as a full sort of every call, most surprising first (the lowest index among equals). */
function bySort(tokens: Int32Array, surprisal: Float32Array, top: number, context: number): { calls: string; surprisal: number }[] {
  const offset = tokens.length - surprisal.length;
  const mean = surprisal.reduce((a, v) => a + v / Math.max(1, surprisal.length), 0);
  const order = Array.from(surprisal.keys()).sort((a, b) => surprisal[b] - surprisal[a] || a - b);
  const shown: [number, number][] = [];
  const out: { calls: string; surprisal: number }[] = [];
  for (const i of order) {
    if (out.length >= top || !(surprisal[i] > 0) || surprisal[i] < mean) break;
    const at = i + offset;
    if (shown.some(([a, b]) => at >= a && at <= b)) continue;
    const from = Math.max(0, at - context + 1);
    shown.push([from, at]);
    out.push({ calls: Array.from(tokens.subarray(from, at + 1), (t) => names[t] ?? 'unknown').join(' '), surprisal: Math.round(surprisal[i] * 10) / 10 });
  }
  return out;
}

void test('the same calls as sorting the whole window, ties and overlapping contexts included', () => {
  const window = fc.integer({ min: 1, max: 80 }).chain((n) =>
    fc.record({
      tokens: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: n, maxLength: n }),
      // Few distinct values, so that ties and neighbouring peaks are common.
      surprisal: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: n }),
      top: fc.integer({ min: 1, max: 5 }),
      context: fc.integer({ min: 1, max: 6 }),
    }),
  );
  fc.assert(
    fc.property(window, ({ tokens, surprisal, top, context }) => {
      const t = Int32Array.from(tokens);
      const s = Float32Array.from(surprisal);
      assert.deepEqual(whyOf(t, s, names, { top, context }), bySort(t, s, top, context));
    }),
    { numRuns: 2000, seed: 14 },
  );
});
