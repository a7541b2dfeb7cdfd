// Syscalls to model tokens.
//
// Tokens: 0 = padding, 1 = unknown (a syscall the model's mapping does not name, or a number
// missing from the ABI's table); mapping ids (2 and up) are used as tokens unchanged.
import { ABIS, type Abi } from '../core/types.js';
import { FIRST_MAPPING_ID, MappingError } from './mapping.js';
import { NAMES_BY_NUMBER, normaliseName } from './names.js';

export const PADDING_TOKEN = 0;
export const UNKNOWN_TOKEN = 1;
/** What `lookup` returns for a number the ABI's table does not have. */
export const NOT_A_SYSCALL = -1;

export class Tokenizer {
  /** Max token + 1: the size of the model's embedding/vocabulary. */
  readonly vocabulary: number;
  private readonly byName: ReadonlyMap<string, number>;
  private readonly byTwin: ReadonlyMap<string, number>;
  private readonly tables: Record<Abi, Int32Array>;

  private constructor(mapping: ReadonlyMap<string, number>) {
    let max = UNKNOWN_TOKEN;
    const byTwin = new Map<string, number>();
    for (const [name, id] of mapping) {
      if (!Number.isInteger(id) || id < FIRST_MAPPING_ID || id > 0x7fffffff) {
        throw new MappingError(`mapping id ${id} of "${name}" is out of range; ids start at ${FIRST_MAPPING_ID} (0 = padding, 1 = unknown)`);
      }
      if (id > max) max = id;
    }
    // A name the mapping lacks may still match through its 64-bit twin, in either direction:
    // a model trained on x64 names (`stat`) reads i386 `stat64`, one trained on i386 names
    // (`stat64`) reads x64 `stat`. A mapping key that is already the twin wins.
    for (const [name, id] of mapping) if (normaliseName(name) === name) byTwin.set(name, id);
    for (const [name, id] of mapping) {
      const twin = normaliseName(name);
      if (!byTwin.has(twin)) byTwin.set(twin, id);
    }
    this.byName = new Map(mapping);
    this.byTwin = byTwin;
    this.vocabulary = max + 1;
    const tables = {} as Record<Abi, Int32Array>;
    for (const abi of ABIS) {
      const names = NAMES_BY_NUMBER[abi];
      const t = new Int32Array(names.length).fill(NOT_A_SYSCALL);
      names.forEach((name, id) => {
        if (name !== undefined) t[id] = this.tokenOfName(name);
      });
      tables[abi] = t;
    }
    this.tables = tables;
  }

  static fromMapping(mapping: ReadonlyMap<string, number>): Tokenizer {
    return new Tokenizer(mapping);
  }

  /** Token of syscall `id` on `abi`; UNKNOWN_TOKEN for numbers the ABI does not have. O(1). */
  token(abi: Abi, id: number): number {
    const t = this.lookup(abi, id);
    return t === NOT_A_SYSCALL ? UNKNOWN_TOKEN : t;
  }

  /** Like `token`, but NOT_A_SYSCALL (-1) for a number missing from the ABI's table. O(1). */
  lookup(abi: Abi, id: number): number {
    const t = this.tables[abi] as Int32Array | undefined;
    if (t === undefined || id < 0 || id >= t.length) return NOT_A_SYSCALL;
    return t[id | 0];
  }

  /** The per-ABI table itself (index = syscall number, -1 = none), for hot loops. */
  table(abi: Abi): Int32Array {
    return this.tables[abi];
  }

  /** Token of a syscall name: the mapping's own entry, else its 64-bit twin's, else UNKNOWN_TOKEN. */
  tokenOfName(name: string): number {
    return this.byName.get(name) ?? this.byTwin.get(normaliseName(name)) ?? UNKNOWN_TOKEN;
  }
}
