// Opens the database file: parent directory created, file created with mode 0600 before
// SQLite touches it (SQLite gives the -wal and -shm files the same mode), and the driver
// chosen for the runtime: bun:sqlite under Bun, better-sqlite3 under Node.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DriverOpener, SqlDriver } from './driver.js';

export const DB_FILE_MODE = 0o600;

/** True when running under Bun (the compiled binary or `bun run`). */
export function isBun(): boolean {
  return typeof process.versions.bun === 'string';
}

/** The driver for this runtime, imported on demand so neither runtime loads the other's. */
export const runtimeOpener: DriverOpener = async (path, options) => {
  if (isBun()) {
    const { openBunSqlite } = await import('./bun-sqlite.js');
    return openBunSqlite(path, options);
  }
  const { openBetterSqlite3 } = await import('./better-sqlite3.js');
  return openBetterSqlite3(path, options);
};

/** Readable message for a database that cannot be created or opened. */
export class StoreOpenError extends Error {
  constructor(path: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException).code;
    const reason = code ?? (cause as Error).message;
    super(
      `cannot open the database ${path} (${reason}); check that its directory is writable ` +
        `by this user or set ARGOS_DB_PATH to another place`,
    );
    this.name = 'StoreOpenError';
  }
}

/**
 * Creates the parent directory and the file (0600, or tightened to 0600), then opens it.
 * `readonly`: opens an existing file without writing anything (a missing one is an error).
 */
export async function openDatabaseFile(path: string, opener: DriverOpener = runtimeOpener, readonly = false): Promise<SqlDriver> {
  if (path === ':memory:') return opener(path);
  if (readonly) {
    try {
      return await opener(path, { readonly: true });
    } catch (e) {
      throw new StoreOpenError(path, e);
    }
  }
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
    closeSync(openSync(path, 'a', DB_FILE_MODE));
    chmodSync(path, DB_FILE_MODE);
    return await opener(path);
  } catch (e) {
    throw new StoreOpenError(path, e);
  }
}

/**
 * The file is not a database this program can use: not SQLite at all, damaged, or another
 * application's. At start the daemon moves such a file aside (never deletes it) and begins anew.
 */
export class UnusableDatabaseError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`the database ${path} is unusable (${reason}); move it away or set ARGOS_DB_PATH to another file`);
    this.name = 'UnusableDatabaseError';
  }
}

/** SQLite's own words for a file that is not a database or is damaged (both drivers). */
const UNUSABLE_CODES = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_CORRUPT_VTAB', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_INDEX']);
const UNUSABLE_MESSAGE = /file is not a database|is encrypted or is not a database|database disk image is malformed/i;

/** True when `e` says the file's content is the problem (not its permissions or place). */
export function isUnusableDatabase(e: unknown): boolean {
  if (e instanceof UnusableDatabaseError) return true;
  const err = e as { code?: unknown; message?: unknown } | undefined;
  if (typeof err?.code === 'string' && UNUSABLE_CODES.has(err.code)) return true;
  return typeof err?.message === 'string' && UNUSABLE_MESSAGE.test(err.message);
}

/**
 * Renames `path` (and its -wal and -shm files) to `<path>.unusable-<UTC time>`, so a person
 * can look at it later; returns the new name of the main file.
 */
export function setAsideDatabase(path: string, nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[:.]/g, '-');
  let target = `${path}.unusable-${stamp}`;
  for (let n = 2; existsSync(target); n++) target = `${path}.unusable-${stamp}-${n}`;
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, target + suffix);
  }
  renameSync(path, target);
  return target;
}
