// SqlDriver over bun:sqlite (the compiled binary; better-sqlite3 does not load in Bun).
// Loaded only under Bun, through a dynamic import, so Node never resolves `bun:sqlite`.
import type { SqlDriver, SqlRow, SqlStatement, SqlValue } from './driver.js';

/** The part of bun:sqlite's API used here (Bun's own types are not installed for Node builds). */
interface BunStatement {
  run(...p: SqlValue[]): { changes: number; lastInsertRowid: number | bigint };
  get(...p: SqlValue[]): SqlRow | null;
  all(...p: SqlValue[]): SqlRow[];
  iterate(...p: SqlValue[]): IterableIterator<SqlRow>;
}
interface BunDatabase {
  prepare(sql: string): BunStatement;
  exec(sql: string): void;
  transaction<T>(fn: () => T): { immediate(): T };
  close(): void;
}
interface BunSqliteModule {
  Database: new (path: string, options?: { create?: boolean; strict?: boolean }) => BunDatabase;
}

export async function openBunSqlite(path: string): Promise<SqlDriver> {
  // A variable specifier keeps TypeScript and Node's loader from resolving the module.
  const specifier = 'bun:sqlite';
  const mod = (await import(specifier)) as BunSqliteModule;
  const db = new mod.Database(path, { create: true, strict: true });
  const cache = new Map<string, SqlStatement>();
  return {
    name: 'bun:sqlite',
    prepare(sql) {
      let s = cache.get(sql);
      if (s) return s;
      const stmt = db.prepare(sql);
      s = {
        run: (...p) => stmt.run(...p),
        get: (...p) => stmt.get(...p) ?? undefined,
        all: (...p) => stmt.all(...p),
        iterate: (...p) => stmt.iterate(...p),
      };
      cache.set(sql, s);
      return s;
    },
    exec(sql) {
      db.exec(sql);
    },
    transaction(fn) {
      return db.transaction(fn).immediate();
    },
    pragma(name) {
      const row = db.prepare(`PRAGMA ${name}`).get();
      return row ? (Object.values(row)[0] ?? null) : null;
    },
    close() {
      cache.clear();
      db.close();
    },
  };
}
