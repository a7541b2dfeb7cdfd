// The slice of a SQL database the hub store needs, over PostgreSQL (pg) and SQLite (the
// daemon's driver layer). SQL is written once with `?` placeholders; the PostgreSQL side
// numbers them. Values are strings, numbers and nulls only (times are integer milliseconds,
// JSON is text), so both engines hold the same rows.

export type HubSqlValue = string | number | null;
export type HubRow = Record<string, unknown>;

export interface HubQueries {
  /** Rows of a query. */
  all(sql: string, params?: readonly HubSqlValue[]): Promise<HubRow[]>;
  /** Runs a statement; resolves to the rows it changed. */
  run(sql: string, params?: readonly HubSqlValue[]): Promise<number>;
}

export interface HubDatabase extends HubQueries {
  readonly dialect: 'postgres' | 'sqlite';
  /** Where it is, without credentials (for logs and /metrics). */
  readonly where: string;
  /** Runs `fn` in one transaction: all of it is committed, or none (it rethrows). */
  transaction<T>(fn: (q: HubQueries) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` in a transaction that no other hub runs at the same time (schema
   * migrations when several hubs start together).
   */
  exclusive<T>(fn: (q: HubQueries) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Readable message for a database that cannot be reached or opened. */
export class HubDatabaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HubDatabaseError';
  }
}
