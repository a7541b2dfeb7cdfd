// Flag parsing and error mapping shared by `argos train` and `argos evaluate`.
import { UsageError } from '../errors.js';
import { DataError } from '../../model/traces.js';
import { ModelError } from '../../model/folder.js';
import { MappingError } from '../../syscalls/mapping.js';

export function numberFlag(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${name} must be a number, got "${value}"`);
  return n;
}

/** Problems with the user's data or model become usage errors (exit 2, one line, no stack). */
export function asUsageError(e: unknown): unknown {
  if (e instanceof DataError || e instanceof ModelError || e instanceof MappingError) return new UsageError(e.message);
  return e;
}
