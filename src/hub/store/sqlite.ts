// HubDatabase over SQLite, through the daemon's driver layer (better-sqlite3 on Node,
// bun:sqlite in the compiled binary). SQLite is synchronous and this is one connection, so
// transactions take turns: a transaction waits for the one before it to end.
import { openDatabaseFile, runtimeOpener } from '../../store/open.js';
import type { DriverOpener, SqlDriver } from '../../store/driver.js';
import type { HubDatabase, HubQueries, HubRow, HubSqlValue } from './database.js';

export async function openSqliteHubDatabase(path: string, opener: DriverOpener = runtimeOpener): Promise<HubDatabase> {
  const db = await openDatabaseFile(path, opener);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
  return new SqliteHubDatabase(db, path);
}

class SqliteHubDatabase implements HubDatabase {
  readonly dialect = 'sqlite';
  private turn: Promise<unknown> = Promise.resolve();
  private readonly queries: HubQueries;

  constructor(
    private readonly db: SqlDriver,
    readonly where: string,
  ) {
    this.queries = {
      all: async (sql, params = []) => db.prepare(sql).all(...params) as HubRow[],
      run: async (sql, params = []) => db.prepare(sql).run(...(params as HubSqlValue[])).changes,
    };
  }

  all(sql: string, params?: readonly HubSqlValue[]): Promise<HubRow[]> {
    return this.queries.all(sql, params);
  }

  run(sql: string, params?: readonly HubSqlValue[]): Promise<number> {
    return this.queries.run(sql, params);
  }

  transaction<T>(fn: (q: HubQueries) => Promise<T>): Promise<T> {
    const result = this.turn.then(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const r = await fn(this.queries);
        this.db.exec('COMMIT');
        return r;
      } catch (e) {
        this.db.exec('ROLLBACK');
        throw e;
      }
    });
    this.turn = result.catch(() => undefined);
    return result;
  }

  exclusive<T>(fn: (q: HubQueries) => Promise<T>): Promise<T> {
    // BEGIN IMMEDIATE already keeps every other connection from writing.
    return this.transaction(fn);
  }

  async close(): Promise<void> {
    await this.turn;
    this.db.close();
  }
}
