// Profiles and their thresholds (DESIGN.md "Programs and the device's own model").
//
// Which programs get a profile of their own: those with at least `minCalls` calls in the
// training data, in the order of their program keys (so the same data gives the same ids).
// Every other program seen in training is known (no new_program alert) and is scored by the
// shared fallback, profile 0.
//
// Calibration units: a trace, or for a long trace each piece of at most `segmentCalls`
// calls. Programs that run as a few long processes (services) would otherwise have one or
// two held-out units, or none, and their profile no threshold of its own.
//
// A profile's threshold is the lowest score that flags at most `targetFpr` of its held-out
// units (their score: the maximum over the daemon's windows, by a model that never saw
// them). With fewer than 1/targetFpr held-out units that quantile cannot be told from the
// largest score, so the rule is conservative: the largest held-out score times
// (1 + FEW_UNITS_MARGIN), and never below the fallback's threshold.
import { thresholdForFpr } from './metrics.js';

/** Extra room above the largest held-out score of a profile with few held-out units. */
export const FEW_UNITS_MARGIN = 0.25;

export interface ProfileAssignment {
  /** Profiles, including the fallback 0. */
  count: number;
  /** The profile of each trace. */
  of: Int32Array;
  /** Every program seen → its profile (0: too little data for its own). */
  programs: Record<string, number>;
  /** The program of each profile (index = id; 0 = the fallback, null). */
  names: (string | null)[];
}

export function assignProfiles(programOf: readonly (string | undefined)[], lengths: readonly number[], minCalls: number): ProfileAssignment {
  const calls = new Map<string, number>();
  programOf.forEach((p, i) => {
    if (p !== undefined) calls.set(p, (calls.get(p) ?? 0) + lengths[i]);
  });
  const keys = [...calls.keys()].sort();
  const programs: Record<string, number> = {};
  const names: (string | null)[] = [null];
  for (const k of keys) {
    if ((calls.get(k) ?? 0) >= minCalls) {
      programs[k] = names.length;
      names.push(k);
    } else {
      programs[k] = 0;
    }
  }
  const of = Int32Array.from(programOf, (p) => (p === undefined ? 0 : (programs[p] ?? 0)));
  return { count: names.length, of, programs, names };
}

/** `tokens` cut into consecutive pieces of at most `size` calls (the whole array when it is short). */
export function segments(tokens: Int32Array, size: number): Int32Array[] {
  if (tokens.length <= size) return [tokens];
  const out: Int32Array[] = [];
  for (let i = 0; i < tokens.length; i += size) out.push(tokens.subarray(i, Math.min(tokens.length, i + size)));
  return out;
}

export type ThresholdRule = 'quantile' | 'few';

/** A profile's threshold from its held-out unit scores (see the module comment). */
export function profileThreshold(scores: readonly number[], targetFpr: number, floor: number): { threshold: number; rule: ThresholdRule } {
  const enough = Math.ceil(1 / Math.max(targetFpr, 1e-9) - 1e-9);
  if (scores.length >= enough) return { threshold: thresholdForFpr(scores, targetFpr), rule: 'quantile' };
  let max = Number.NEGATIVE_INFINITY;
  for (const s of scores) if (s > max) max = s;
  const few = Number.isFinite(max) ? max * (1 + FEW_UNITS_MARGIN) : floor;
  return { threshold: Math.max(few, floor), rule: 'few' };
}
