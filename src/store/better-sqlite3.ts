// SqlDriver over better-sqlite3 (Node). The one file that imports better-sqlite3.
import Database from 'better-sqlite3';
import type { SqlDriver, SqlRow, SqlStatement, SqlValue } from './driver.js';

export function openBetterSqlite3(path: string): SqlDriver {
  const db = new Database(path);
  const cache = new Map<string, SqlStatement>();
  return {
    name: 'better-sqlite3',
    prepare(sql) {
      let s = cache.get(sql);
      if (s) return s;
      const stmt = db.prepare<SqlValue[], SqlRow>(sql);
      const reader = stmt.reader;
      s = {
        run: (...p) => stmt.run(...p),
        get: (...p) => (reader ? stmt.get(...p) : undefined),
        all: (...p) => (reader ? stmt.all(...p) : []),
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
      return db.pragma(name, { simple: true }) as SqlValue;
    },
    close() {
      cache.clear();
      db.close();
    },
  };
}
