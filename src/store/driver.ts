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

/** Opens a database file (which must already exist or be creatable). */
export type DriverOpener = (path: string) => Promise<SqlDriver>;
