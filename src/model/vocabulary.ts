// The training vocabulary: syscall names seen in the training data, most frequent first,
// ids from 2 (0 = padding, 1 = unknown). Deterministic: ties break by name.
import { FIRST_MAPPING_ID } from '../syscalls/mapping.js';
import { Tokenizer, UNKNOWN_TOKEN } from '../syscalls/tokenizer.js';
import type { Trace } from './traces.js';

export function buildMapping(traces: readonly Trace[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of traces) for (const c of t.calls) if (c !== null) counts.set(c, (counts.get(c) ?? 0) + 1);
  const names = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([n]) => n);
  return new Map(names.map((n, i) => [n, FIRST_MAPPING_ID + i]));
}

/** A trace's calls as model tokens (unknown names and numbers -> 1). */
export function tokenize(tokenizer: Tokenizer, calls: readonly (string | null)[]): Int32Array {
  const out = new Int32Array(calls.length);
  for (let i = 0; i < calls.length; i++) {
    const c = calls[i];
    out[i] = c === null ? UNKNOWN_TOKEN : tokenizer.tokenOfName(c);
  }
  return out;
}
