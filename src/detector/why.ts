// Why a window alerted: its most surprising calls, each with the calls before it (the
// context the model judged it in), most surprising first.
import type { WhyCall } from '../core/alert.js';

export interface WhyOptions {
  /** How many surprising calls to report (default 3). */
  top?: number;
  /** Calls shown for each, the surprising one last (default 5). */
  context?: number;
}

/**
 * The `top` most surprising calls of a window. `surprisal[i]` belongs to `tokens[i]` (the last
 * `surprisal.length` tokens when the window was longer than the model's). A call is skipped
 * when it falls inside the context already shown for a more surprising one, or when it is
 * less surprising than the window's calls on average (it is not why the window stands out).
 */
export function whyOf(tokens: Int32Array, surprisal: Float32Array, names: readonly string[], opts: WhyOptions = {}): WhyCall[] {
  const top = opts.top ?? 3;
  const context = opts.context ?? 5;
  const offset = tokens.length - surprisal.length;
  let mean = 0;
  for (const v of surprisal) mean += v / Math.max(1, surprisal.length);
  const shown: [number, number][] = [];
  const out: WhyCall[] = [];
  // `top` passes over the window, each taking the most surprising call not yet shown (the
  // lowest index among equals): the order a full sort would give, without sorting every call
  // of every alerting window.
  while (out.length < top) {
    let best = -1;
    for (let i = 0; i < surprisal.length; i++) {
      if (best >= 0 && !(surprisal[i] > surprisal[best])) continue;
      const at = i + offset;
      if (!shown.some(([a, b]) => at >= a && at <= b)) best = i;
    }
    if (best < 0 || !(surprisal[best] > 0) || surprisal[best] < mean) break;
    const at = best + offset;
    const from = Math.max(0, at - context + 1);
    shown.push([from, at]);
    const calls: string[] = [];
    for (let j = from; j <= at; j++) calls.push(names[tokens[j]] ?? 'unknown');
    out.push({ calls: calls.join(' '), surprisal: Math.round(surprisal[best] * 10) / 10 });
  }
  return out;
}

/** Token → syscall name from a model's mapping (name → token); 1 is "unknown". */
export function tokenNames(mapping: ReadonlyMap<string, number>): string[] {
  const names: string[] = ['', 'unknown'];
  for (const [name, id] of mapping) names[id] = name;
  return names;
}
