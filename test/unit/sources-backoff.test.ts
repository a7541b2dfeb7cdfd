import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, delay } from '../../src/core/backoff.js';
import type { Timers } from '../../src/core/time.js';

void test('delays grow exponentially up to the cap, with jitter taken off the top', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5, random: () => 0 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800, 1000, 1000]);
  assert.equal(b.attempts, 6);
  b.reset();
  assert.equal(b.next(), 100);
});

void test('jitter stays within [d*(1-jitter), d] and depends on the random source', () => {
  const highs = new Backoff({ initialMs: 1000, maxMs: 8000, jitter: 0.5, random: () => 0.999999 });
  const lows = new Backoff({ initialMs: 1000, maxMs: 8000, jitter: 0.5, random: () => 0 });
  for (let i = 0; i < 6; i++) {
    const hi = highs.next();
    const lo = lows.next();
    assert.ok(hi < lo, `step ${i}: ${hi} < ${lo}`);
    assert.ok(hi >= lo / 2);
  }
  let r = 0;
  const seq = [0.1, 0.9, 0.5];
  const varied = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 1, random: () => seq[r++ % 3] });
  assert.deepEqual([varied.next(), varied.next(), varied.next()], [900, 100, 500]);
});

void test('the exponent does not overflow after very many failures', () => {
  const b = new Backoff({ initialMs: 1000, maxMs: 30_000, random: () => 0 });
  for (let i = 0; i < 5000; i++) b.next();
  assert.equal(b.next(), 30_000);
});

void test('delay() waits on the injected timers and ends early on abort', async () => {
  const pending: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      const t = { fn, ms, cleared: false };
      pending.push(t);
      return t;
    },
    clearTimeout: (h) => {
      (h as { cleared: boolean }).cleared = true;
    },
    immediate: (fn) => fn(),
  };
  const full = delay(500, timers);
  assert.equal(pending[0].ms, 500);
  pending[0].fn();
  assert.equal(await full, true);

  const ac = new AbortController();
  const cut = delay(500, timers, ac.signal);
  ac.abort();
  assert.equal(await cut, false);
  assert.equal(pending[1].cleared, true);
  assert.equal(await delay(5, timers, ac.signal), false);
});
