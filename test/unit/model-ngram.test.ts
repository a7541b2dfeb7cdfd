import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NgramScorer, trainNgram, NGRAM_DEFAULTS, type Smoothing } from '../../src/model/families/ngram.js';
import { StideScorer, trainStide } from '../../src/model/families/stide.js';
import { buildMapping, tokenize } from '../../src/model/vocabulary.js';
import { rocAuc } from '../../src/model/metrics.js';
import { Tokenizer } from '../../src/syscalls/tokenizer.js';
import { generatedTrace } from '../helpers/model-data.js';
import { prng } from '../../src/core/random.js';

function dataset(seed: number) {
  const next = prng(seed);
  const train = Array.from({ length: 80 }, () => ({ source: 't', calls: generatedTrace(next, false, 150) }));
  const normal = Array.from({ length: 40 }, () => generatedTrace(next, false, 150));
  const attack = Array.from({ length: 40 }, () => generatedTrace(next, true, 150));
  const mapping = buildMapping(train);
  const tok = Tokenizer.fromMapping(mapping);
  return {
    vocabulary: tok.vocabulary,
    train: train.map((t) => tokenize(tok, t.calls)),
    normal: normal.map((c) => tokenize(tok, c)),
    attack: attack.map((c) => tokenize(tok, c)),
  };
}

void test('the vocabulary holds the training names, most frequent first, ids from 2', () => {
  const m = buildMapping([{ source: 'a', calls: ['read', 'write', 'read', null, 'close', 'write', 'read'] }]);
  assert.deepEqual([...m], [['read', 2], ['write', 3], ['close', 4]]);
});

void test('n-gram and STIDE models trained on generated normal traces separate the attacks', () => {
  const d = dataset(11);
  const lm = new NgramScorer(trainNgram(d.train, d.vocabulary, { ...NGRAM_DEFAULTS, order: 4 }));
  const st = new StideScorer(trainStide(d.train, d.vocabulary, 4));
  for (const s of [lm, st]) {
    const auc = rocAuc(d.normal.map((t) => s.score(t)), d.attack.map((t) => s.score(t)));
    assert.ok(auc > 0.95, `AUC ${auc}`);
  }
});

void test('interpolated probabilities over the vocabulary sum to 1 in every context', () => {
  const d = dataset(3);
  for (const smoothing of ['witten-bell', 'absolute'] as Smoothing[]) {
    const model = trainNgram(d.train, d.vocabulary, { ...NGRAM_DEFAULTS, order: 3, smoothing });
    const s = new NgramScorer(model);
    const contexts = [d.train[0].subarray(0, 2), d.train[1].subarray(5, 7), Int32Array.from([1, 1]), new Int32Array(0)];
    for (const ctx of contexts) {
      let total = 0;
      for (let w = 1; w < d.vocabulary; w++) {
        const seq = Int32Array.from([...ctx, w]);
        total += Math.exp(-s.surprisals(seq)[seq.length - 1]);
      }
      assert.ok(Math.abs(total - 1) < 2e-4, `${smoothing}, context [${ctx.join(',')}]: sum ${total}`);
    }
  }
});

void test('unknown calls are suspicious but bounded; padding does not change a score', () => {
  const d = dataset(5);
  const s = new NgramScorer(trainNgram(d.train, d.vocabulary, { ...NGRAM_DEFAULTS, order: 4 }));
  const w = d.normal[0].slice(0, 60);
  const withUnknown = w.slice();
  withUnknown[30] = 1;
  const surprisal = s.surprisals(withUnknown)[30];
  assert.ok(surprisal > s.surprisals(w)[30], 'an unknown call is more surprising than the real one');
  const cap = s.model.cap;
  assert.ok(surprisal <= cap + 1e-6 && surprisal > cap - 1, `bounded by ${cap}: ${surprisal}`);
  const padded = new Int32Array(100);
  padded.set(w);
  assert.equal(s.score(padded), s.score(w));
  // Tokens beyond the vocabulary read as unknown.
  const beyond = withUnknown.slice();
  beyond[30] = d.vocabulary + 5;
  assert.equal(s.score(beyond), s.score(withUnknown));
});

void test('training is deterministic and refuses orders whose keys would not be exact', () => {
  const d = dataset(9);
  const a = trainNgram(d.train, d.vocabulary, { ...NGRAM_DEFAULTS, order: 3 });
  const b = trainNgram(d.train, d.vocabulary, { ...NGRAM_DEFAULTS, order: 3 });
  assert.deepEqual(a, b);
  assert.throws(() => trainNgram(d.train, 1000, { ...NGRAM_DEFAULTS, order: 6 }), /too high for a vocabulary of 1000/);
  assert.throws(() => trainStide(d.train, d.vocabulary, 0), /whole number >= 1/);
});
