// Opens the database file: parent directory created, file created with mode 0600 before
// SQLite touches it (SQLite gives the -wal and -shm files the same mode), and the driver
// chosen for the runtime: bun:sqlite under Bun, better-sqlite3 under Node.
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DriverOpener, SqlDriver } from './driver.js';

export const DB_FILE_MODE = 0o600;

/** True when running under Bun (the compiled binary or `bun run`). */
export function isBun(): boolean {
  return typeof process.versions.bun === 'string';
}

/** The driver for this runtime, imported on demand so neither runtime loads the other's. */
export const runtimeOpener: DriverOpener = async (path) => {
  if (isBun()) {
    const { openBunSqlite } = await import('./bun-sqlite.js');
    return openBunSqlite(path);
  }
  const { openBetterSqlite3 } = await import('./better-sqlite3.js');
  return openBetterSqlite3(path);
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

/** Creates the parent directory and the file (0600, or tightened to 0600), then opens it. */
export async function openDatabaseFile(path: string, opener: DriverOpener = runtimeOpener): Promise<SqlDriver> {
  if (path === ':memory:') return opener(path);
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
    closeSync(openSync(path, 'a', DB_FILE_MODE));
    chmodSync(path, DB_FILE_MODE);
    return await opener(path);
  } catch (e) {
    throw new StoreOpenError(path, e);
  }
}
