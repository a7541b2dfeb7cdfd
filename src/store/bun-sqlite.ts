// SqlDriver over bun:sqlite (the compiled binary; better-sqlite3 does not load in Bun).
// Loaded only under Bun, through a dynamic import, so Node never resolves `bun:sqlite`.
import { cachingDriver, type NativeStatement, type OpenOptions, type SqlDriver } from './driver.js';

/** The part of bun:sqlite's API used here (Bun's own types are not installed for Node builds). */
interface BunDatabase {
  prepare(sql: string): NativeStatement;
  exec(sql: string): void;
  transaction<T>(fn: () => T): { immediate(): T };
  close(): void;
}
interface BunSqliteModule {
  Database: new (path: string, options?: { create?: boolean; readonly?: boolean; strict?: boolean }) => BunDatabase;
}

export async function openBunSqlite(path: string, options: OpenOptions = {}): Promise<SqlDriver> {
  // A variable specifier keeps TypeScript and Node's loader from resolving the module.
  const specifier = 'bun:sqlite';
  const mod = (await import(specifier)) as BunSqliteModule;
  const db = options.readonly === true ? new mod.Database(path, { readonly: true, strict: true }) : new mod.Database(path, { create: true, strict: true });
  return cachingDriver({
    name: 'bun:sqlite',
    prepare: (sql) => db.prepare(sql),
    exec: (sql) => db.exec(sql),
    transaction: (fn) => db.transaction(fn).immediate(),
    pragma(name) {
      const stmt = db.prepare(`PRAGMA ${name}`);
      try {
        const row = stmt.get();
        return row ? (Object.values(row)[0] ?? null) : null;
      } finally {
        stmt.finalize?.();
      }
    },
    close: () => db.close(),
  });
}
