// The slice of SQLite the store needs, so the same store runs on better-sqlite3 (Node)
// and bun:sqlite (the compiled binary). Both libraries are synchronous.

/** Values SQLite binds and returns. */
export type SqlValue = string | number | bigint | null | Uint8Array;
export type SqlParams = readonly SqlValue[];
export type SqlRow = Record<string, SqlValue>;

export interface SqlStatement {
  run(...params: SqlValue[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: SqlValue[]): SqlRow | undefined;
  all(...params: SqlValue[]): SqlRow[];
  /** Rows one at a time, for large reads (baseline). */
  iterate(...params: SqlValue[]): IterableIterator<SqlRow>;
}

export interface SqlDriver {
  /** Which library is underneath (for `doctor` and logs). */
  readonly name: string;
  prepare(sql: string): SqlStatement;
  /** Runs one or more statements without parameters (DDL, pragmas). */
  exec(sql: string): void;
  /** Wraps `fn` in BEGIN IMMEDIATE … COMMIT; rolls back if it throws. */
  transaction<T>(fn: () => T): T;
  /** Reads one pragma value, e.g. `pragma('user_version')`. */
  pragma(name: string): SqlValue;
  close(): void;
}

export interface OpenOptions {
  /** Read only: nothing is written to the file, and a missing file is an error. */
  readonly?: boolean;
}

/** Opens a database file (which must already exist or be creatable). */
export type DriverOpener = (path: string, options?: OpenOptions) => Promise<SqlDriver>;

/** What both libraries' statements offer (bun:sqlite's `get` returns null for no row). */
export interface NativeStatement {
  run(...p: SqlValue[]): { changes: number; lastInsertRowid: number | bigint };
  get(...p: SqlValue[]): SqlRow | null | undefined;
  all(...p: SqlValue[]): SqlRow[];
  iterate(...p: SqlValue[]): IterableIterator<SqlRow>;
  /** bun:sqlite: releases the statement; a connection with live statements is not really closed (its WAL never checkpointed). */
  finalize?(): void;
}

export interface NativeDatabase {
  name: string;
  prepare(sql: string): NativeStatement;
  exec(sql: string): void;
  transaction<T>(fn: () => T): T;
  pragma(name: string): SqlValue;
  close(): void;
}

/** A SqlDriver over either library, with prepared statements cached by their SQL. */
export function cachingDriver(db: NativeDatabase): SqlDriver {
  const cache = new Map<string, SqlStatement>();
  const natives: NativeStatement[] = [];
  return {
    name: db.name,
    prepare(sql) {
      let s = cache.get(sql);
      if (s) return s;
      const stmt = db.prepare(sql);
      natives.push(stmt);
      s = {
        run: (...p) => stmt.run(...p),
        get: (...p) => stmt.get(...p) ?? undefined,
        all: (...p) => stmt.all(...p),
        iterate: (...p) => stmt.iterate(...p),
      };
      cache.set(sql, s);
      return s;
    },
    exec: (sql) => db.exec(sql),
    transaction: (fn) => db.transaction(fn),
    pragma: (name) => db.pragma(name),
    close() {
      cache.clear();
      for (const n of natives.splice(0)) n.finalize?.();
      db.close();
    },
  };
}
