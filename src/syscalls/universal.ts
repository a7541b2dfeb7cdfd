// The universal vocabulary: every syscall name of every ABI (64-bit twins merged), each with a
// stable id. Events are tokenized with it whatever model runs, so the device's baseline keeps
// every call by name and a model can be swapped without re-reading anything: a window is put
// into a model's own tokens only when it is cut (tokenMap).
import { FIRST_MAPPING_ID } from './mapping.js';
import { NAMES_BY_NUMBER, normaliseName } from './names.js';
import { Tokenizer, UNKNOWN_TOKEN } from './tokenizer.js';

export interface UniversalVocabulary {
  tokenizer: Tokenizer;
  /** Name of each universal id (1 = "unknown"). */
  names: readonly string[];
}

let universal: UniversalVocabulary | undefined;

/** The universal vocabulary (built once). */
export function universalVocabulary(): UniversalVocabulary {
  if (universal !== undefined) return universal;
  const all = new Set<string>();
  for (const table of Object.values(NAMES_BY_NUMBER)) for (const n of table) if (n !== undefined) all.add(normaliseName(n));
  const sorted = [...all].sort();
  const mapping = new Map(sorted.map((n, i) => [n, i + FIRST_MAPPING_ID]));
  const names: string[] = [];
  for (const [n, id] of mapping) names[id] = n;
  names[0] = '';
  names[UNKNOWN_TOKEN] = 'unknown';
  universal = { tokenizer: Tokenizer.fromMapping(mapping), names };
  return universal;
}

/** Universal id → the model's token (its mapping, 64-bit twins included; unknown → 1; 0 stays padding). */
export function tokenMap(model: Tokenizer): Int32Array {
  const { names } = universalVocabulary();
  const map = new Int32Array(names.length);
  for (let id = 1; id < names.length; id++) map[id] = id === UNKNOWN_TOKEN ? UNKNOWN_TOKEN : model.tokenOfName(names[id]);
  return map;
}
