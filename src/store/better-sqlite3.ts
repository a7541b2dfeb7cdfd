// SqlDriver over better-sqlite3 (Node). The one file that imports better-sqlite3.
import Database from 'better-sqlite3';
import { cachingDriver, type OpenOptions, type SqlDriver, type SqlRow, type SqlValue } from './driver.js';

export function openBetterSqlite3(path: string, options: OpenOptions = {}): SqlDriver {
  const db = new Database(path, { readonly: options.readonly === true, fileMustExist: options.readonly === true });
  return cachingDriver({
    name: 'better-sqlite3',
    prepare(sql) {
      const stmt = db.prepare<SqlValue[], SqlRow>(sql);
      // Statements that return no data (INSERT, DDL) refuse get/all in better-sqlite3.
      if (stmt.reader) return stmt;
      return { run: (...p) => stmt.run(...p), get: () => undefined, all: () => [], iterate: () => [][Symbol.iterator]() };
    },
    exec: (sql) => void db.exec(sql),
    transaction: (fn) => db.transaction(fn).immediate(),
    pragma: (name) => db.pragma(name, { simple: true }) as SqlValue,
    close: () => void db.close(),
  });
}
