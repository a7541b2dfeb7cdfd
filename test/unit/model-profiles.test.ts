// Per-program profiles of the n-gram family (DESIGN.md "Programs and the device's own model").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ngramFamily, NgramScorer, NGRAM_DEFAULTS, trainNgram, trainProgramLevels } from '../../src/model/families/ngram.js';
import { assignProfiles, FEW_UNITS_MARGIN, profileThreshold, segments } from '../../src/model/calibrate.js';
import { buildMapping, tokenize } from '../../src/model/vocabulary.js';
import { Tokenizer } from '../../src/syscalls/tokenizer.js';
import { prng } from '../../src/core/random.js';

/** Two programs with disjoint habits over one vocabulary. */
const HABITS = {
  alpha: [['openat', 'fstat', 'read', 'read', 'close'], ['poll', 'recvfrom', 'sendto', 'clock_gettime']],
  beta: [['mmap', 'mprotect', 'munmap', 'brk'], ['getpid', 'write', 'futex', 'nanosleep']],
};

/** A program's calls: its habits, with now and then a call out of place (rare n-grams). */
function trace(next: () => number, habits: string[][], length: number): string[] {
  const out: string[] = [];
  while (out.length < length) {
    const h = habits[Math.floor(next() * habits.length)];
    out.push(...h.map((c) => (next() < 0.02 ? h[Math.floor(next() * h.length)] : c)));
  }
  return out.slice(0, length);
}

function data() {
  const next = prng(5);
  const alpha = Array.from({ length: 30 }, () => ({ source: 'a', calls: trace(next, HABITS.alpha, 120) }));
  const beta = Array.from({ length: 30 }, () => ({ source: 'b', calls: trace(next, HABITS.beta, 120) }));
  const tok = Tokenizer.fromMapping(buildMapping([...alpha, ...beta]));
  const traces = [...alpha, ...beta].map((t) => tokenize(tok, t.calls));
  const of = Int32Array.from(traces, (_, i) => (i < alpha.length ? 1 : 2));
  return { tok, traces, of, V: tok.vocabulary, alphaWindow: tokenize(tok, trace(next, HABITS.alpha, 60)), betaWindow: tokenize(tok, trace(next, HABITS.beta, 60)) };
}

void test('a program\'s profile knows its own habits as well as the shared model does, and finds another program\'s strange', () => {
  const d = data();
  const opts = { ...NGRAM_DEFAULTS, order: 4 };
  const model = trainNgram(d.traces, d.V, opts);
  model.programs = trainProgramLevels(d.traces, d.of, 3, d.V, opts);
  const s = new NgramScorer(model);
  const [own, shared, other] = [s.score(d.alphaWindow, 1), s.score(d.alphaWindow, 0), s.score(d.alphaWindow, 2)];
  assert.ok(own < shared * 1.25, `alpha's window: own profile ${own}, shared ${shared}`);
  assert.ok(other > shared * 5, `alpha's habits are strange to beta's profile: ${other} against ${shared}`);
  assert.ok(s.score(d.betaWindow, 1) > s.score(d.betaWindow, 0) * 5);
  // Profile 0 is the shared model alone: what a model without profiles says.
  const plain = new NgramScorer(trainNgram(d.traces, d.V, opts));
  assert.equal(s.score(d.alphaWindow, 0), plain.score(d.alphaWindow));
  assert.equal(s.score(d.alphaWindow, 99), plain.score(d.alphaWindow), 'an unknown profile id falls back to the shared model');
});

void test('every level of every profile is a distribution: per context, the masses and the backoff sum to one', () => {
  const d = data();
  const opts = { ...NGRAM_DEFAULTS, order: 4, minCount: 3 };
  const model = trainNgram(d.traces, d.V, opts);
  const programs = trainProgramLevels(d.traces, d.of, 3, d.V, opts);
  const P = programs.count;
  const check = (level: { keys: number[]; mass: number[]; contextKeys: number[]; backoff: number[] }, contextOf: (key: number) => number, what: string): void => {
    const sums = new Map(level.contextKeys.map((c, i) => [c, level.backoff[i]]));
    level.keys.forEach((k, i) => sums.set(contextOf(k), (sums.get(contextOf(k)) ?? Number.NaN) + level.mass[i]));
    for (const [c, sum] of sums) assert.ok(Math.abs(sum - 1) < 1e-9, `${what}: context ${c} sums to ${sum}`);
  };
  model.levels.forEach((l, k) => check(l, (key) => Math.floor(key / d.V), `shared order ${k + 2}`));
  programs.levels.forEach((l, k) =>
    check(l, (key) => Math.floor(Math.floor(key / P) / d.V) * P + (key % P), `program order ${k + 2}`),
  );
  for (let p = 1; p < P; p++) {
    let sum = programs.unigramBackoff[p];
    for (let w = 0; w < d.V; w++) sum += programs.unigramMass[p * d.V + w];
    assert.ok(Math.abs(sum - 1) < 1e-9, `profile ${p} unigram level sums to ${sum}`);
  }
  assert.ok(programs.levels[2].keys.length < trainProgramLevels(d.traces, d.of, 3, d.V, { ...opts, minCount: 1 }).levels[2].keys.length, 'rare 4-grams are pruned');
});

void test('profiles: programs with enough calls get one each, by key; the rest are known but share the fallback', () => {
  const a = assignProfiles(['/usr/bin/b', '/usr/bin/a', undefined, '/usr/bin/rare', '/usr/bin/a'], [500, 700, 900, 10, 800], 1000);
  assert.deepEqual(a.programs, { '/usr/bin/a': 1, '/usr/bin/b': 0, '/usr/bin/rare': 0 });
  assert.deepEqual(a.names, [null, '/usr/bin/a']);
  assert.deepEqual([...a.of], [0, 1, 0, 0, 1]);
  assert.equal(a.count, 2);
});

void test('long traces are cut into pieces for calibration; short ones stay whole', () => {
  const t = Int32Array.from({ length: 10 }, (_, i) => i + 2);
  assert.deepEqual(segments(t, 4).map((s) => [...s]), [[2, 3, 4, 5], [6, 7, 8, 9], [10, 11]]);
  assert.equal(segments(t, 10)[0], t);
});

void test('a profile\'s threshold: the quantile with enough held-out units, else the conservative rule', () => {
  const many = Array.from({ length: 40 }, (_, i) => i / 10);
  assert.deepEqual(profileThreshold(many, 0.05, 0).rule, 'quantile');
  assert.ok(profileThreshold(many, 0.05, 0).threshold > 3.7 && profileThreshold(many, 0.05, 0).threshold <= 3.8);
  assert.deepEqual(profileThreshold([0.2, 0.5], 0.05, 0.1), { threshold: 0.5 * (1 + FEW_UNITS_MARGIN), rule: 'few' });
  assert.deepEqual(profileThreshold([0.2, 0.5], 0.05, 2), { threshold: 2, rule: 'few' }, 'never below the fallback');
  assert.deepEqual(profileThreshold([], 0.05, 2), { threshold: 2, rule: 'few' }, 'no held-out unit: the fallback\'s');
});

void test('the family trains profiles when asked and describes them', () => {
  const d = data();
  const m = ngramFamily.train(d.traces, d.V, { order: 3, profiles: { of: d.of, count: 3 } });
  assert.equal(m.profiles, 3);
  assert.equal(m.describe().profiles, 3);
  assert.ok((m.describe().programEntries ?? 0) > 0);
  assert.equal(ngramFamily.train(d.traces, d.V, { order: 3 }).profiles, 1);
});
