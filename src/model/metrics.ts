// Detection metrics over trace scores (higher = more anomalous; positives = attacks).

/** ROC AUC = P(attack score > normal score) + 1/2 P(equal), by ranks (ties get their mean rank). */
export function rocAuc(normal: ArrayLike<number>, attack: ArrayLike<number>): number {
  const n = normal.length;
  const p = attack.length;
  if (n === 0 || p === 0) return Number.NaN;
  const all: { s: number; pos: boolean }[] = [];
  for (let i = 0; i < n; i++) all.push({ s: normal[i], pos: false });
  for (let i = 0; i < p; i++) all.push({ s: attack[i], pos: true });
  all.sort((a, b) => a.s - b.s);
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j].s === all[i].s) j++;
    const meanRank = (i + 1 + j) / 2; // ranks i+1..j
    for (let k = i; k < j; k++) if (all[k].pos) rankSum += meanRank;
    i = j;
  }
  return (rankSum - (p * (p + 1)) / 2) / (n * p);
}

/**
 * False-alarm rate at a detection rate: the highest threshold that flags at least
 * `rate` of the attacks, and the share of normals it flags (score >= threshold).
 */
export function farAtDetection(normal: ArrayLike<number>, attack: ArrayLike<number>, rate = 0.9): { far: number; threshold: number } {
  if (normal.length === 0 || attack.length === 0) return { far: Number.NaN, threshold: Number.NaN };
  const a = Array.from(attack).sort((x, y) => y - x);
  const need = Math.max(1, Math.ceil(rate * a.length - 1e-9));
  const threshold = a[need - 1];
  let flagged = 0;
  for (let i = 0; i < normal.length; i++) if (normal[i] >= threshold) flagged++;
  return { far: flagged / normal.length, threshold };
}

export interface ThresholdMetrics {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
  fpr: number;
}

/** Confusion counts and rates when alerting at score >= threshold. Undefined ratios are 0. */
export function atThreshold(normal: ArrayLike<number>, attack: ArrayLike<number>, threshold: number): ThresholdMetrics {
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < attack.length; i++) if (attack[i] >= threshold) tp++;
  for (let i = 0; i < normal.length; i++) if (normal[i] >= threshold) fp++;
  const fn = attack.length - tp;
  const tn = normal.length - fp;
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  const fpr = fp + tn === 0 ? 0 : fp / (fp + tn);
  return { tp, fp, tn, fn, precision, recall, f1, fpr };
}

/**
 * The alert threshold for a target false-alarm rate on normal scores: the smallest value
 * that flags at most `targetFpr` of them (score >= threshold alerts).
 */
export function thresholdForFpr(normal: ArrayLike<number>, targetFpr: number): number {
  if (normal.length === 0) throw new RangeError('no normal scores to calibrate on');
  const s = Array.from(normal).sort((x, y) => y - x);
  const allowed = Math.floor(targetFpr * s.length + 1e-9); // how many may be flagged
  if (allowed >= s.length) return s[s.length - 1];
  // Flag only scores strictly above s[allowed]: the next float up from it.
  const v = s[allowed];
  return nextUp(v);
}

function nextUp(v: number): number {
  if (!Number.isFinite(v)) return v;
  const f = Math.fround(v);
  const buf = new Float32Array([f]);
  const bits = new Int32Array(buf.buffer);
  if (f >= 0) bits[0] += 1;
  else bits[0] -= 1;
  const up = buf[0];
  return up > v ? up : Math.fround(v + Math.abs(v) * 1e-6 + 1e-30);
}
