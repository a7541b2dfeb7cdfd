import assert from 'node:assert/strict';
import { test } from 'node:test';
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
