import { prng } from '../core/random.js';
// Seeded folds for reproducible training (the shuffle uses the project's mulberry32 generator).

/** Fold of each of `n` items (0..folds-1): a seeded shuffle dealt round-robin, so folds differ in size by at most one. */
export function foldsOf(n: number, folds: number, seed: number): Int32Array {
  const next = prng(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const fold = new Int32Array(n);
  order.forEach((item, k) => (fold[item] = k % folds));
  return fold;
}
