// The model's syscall mapping file (ARGOS HIDS format): `name,id` a line, no header.
// Ids are model tokens; 0 (padding) and 1 (unknown) are reserved, so ids start at 2.
import { readFileSync } from 'node:fs';

/** Smallest id a mapping may use; 0 and 1 are reserved (see tokenizer.ts). */
export const FIRST_MAPPING_ID = 2;

/** A mapping file that cannot be used; the message names the file, the line and the fix. */
export class MappingError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MappingError';
  }
}

const LINE = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*,\s*(\d+)\s*$/;

/** Parses mapping text; `source` names it in errors (a path, or "mapping"). */
export function parseMapping(text: string, source = 'mapping'): Map<string, number> {
  const map = new Map<string, number>();
  const firstLine = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line.trim() === '') continue;
    const where = `${source}:${i + 1}`;
    const m = LINE.exec(line);
    if (!m) {
      throw new MappingError(`${where}: expected "name,id" (a syscall name, a comma, a whole number), found ${JSON.stringify(line.slice(0, 80))}; the mapping file has no header line`);
    }
    const name = m[1];
    const id = Number(m[2]);
    if (!Number.isSafeInteger(id) || id < FIRST_MAPPING_ID || id > 0x7fffffff) {
      throw new MappingError(`${where}: id ${m[2]} of "${name}" is out of range; ids start at ${FIRST_MAPPING_ID} (0 = padding and 1 = unknown are reserved)`);
    }
    const seen = firstLine.get(name);
    if (seen !== undefined) throw new MappingError(`${where}: "${name}" is mapped twice (first on line ${seen}); keep one line per name`);
    firstLine.set(name, i + 1);
    map.set(name, id);
  }
  if (map.size === 0) throw new MappingError(`${source}: the mapping is empty; expected "name,id" lines`);
  return map;
}

/** Reads a mapping file; errors name the path and line. */
export function readMapping(path: string): Map<string, number> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new MappingError(`${path}: cannot read the syscall mapping (${code}); check SYSCALL_MAPPING_PATH or the model folder`, { cause: e });
  }
  return parseMapping(text, path);
}

/** Mapping file text: one `name,id` line per entry, ordered by id then name, ending in a newline. */
export function formatMapping(map: ReadonlyMap<string, number>): string {
  const rows = [...map].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return rows.map(([name, id]) => `${name},${id}\n`).join('');
}
