// Versioned schema. `user_version` holds the number of migrations applied; each runs in
// its own transaction. Append new migrations; never edit one that has shipped.
import type { SqlDriver } from './driver.js';

export const MIGRATIONS: readonly string[] = [
  // 1: processes seen, alerts, outbox per reporter, counters snapshots, baseline traces.
  `
  CREATE TABLE processes (
    exec_id TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    binary TEXT NOT NULL,
    arguments TEXT NOT NULL,
    pod_namespace TEXT,
    pod_name TEXT,
    container TEXT,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
  );
  CREATE INDEX processes_last_seen ON processes(last_seen);

  CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    time INTEGER NOT NULL,
    node TEXT NOT NULL,
    exec_id TEXT NOT NULL,
    binary TEXT NOT NULL,
    pod_namespace TEXT,
    pod_name TEXT,
    score REAL NOT NULL,
    threshold REAL NOT NULL,
    count INTEGER NOT NULL,
    json TEXT NOT NULL
  );
  CREATE INDEX alerts_time ON alerts(time);

  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reporter TEXT NOT NULL,
    alert_id TEXT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    payload TEXT NOT NULL,
    created INTEGER NOT NULL,
    state INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    settled INTEGER,
    last_error TEXT
  );
  CREATE INDEX outbox_pending ON outbox(reporter, id) WHERE state = 0;
  CREATE INDEX outbox_alert ON outbox(alert_id);

  CREATE TABLE counters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    json TEXT NOT NULL
  );

  CREATE TABLE baseline (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    exec_id TEXT NOT NULL,
    binary TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    length INTEGER NOT NULL,
    syscalls TEXT NOT NULL
  );
  `,
  // 2: the learning lifecycle: programs in the baseline, traces held back because they alerted,
  // operators' allowances, the lifecycle's own state.
  `
  ALTER TABLE baseline ADD COLUMN program TEXT;
  CREATE INDEX baseline_program ON baseline(program, id);

  CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT,
    exec_id TEXT NOT NULL,
    binary TEXT NOT NULL,
    program TEXT,
    started_at INTEGER NOT NULL,
    length INTEGER NOT NULL,
    syscalls TEXT NOT NULL
  );
  CREATE INDEX quarantine_alert ON quarantine(alert_id);
  CREATE INDEX quarantine_program ON quarantine(program);

  CREATE TABLE allowances (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    program TEXT NOT NULL,
    score_max REAL,
    alert_id TEXT,
    created INTEGER NOT NULL
  );

  CREATE TABLE lifecycle (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
];

export class MigrationError extends Error {}

/** Brings the schema up to date; returns the version reached. */
export function migrate(db: SqlDriver, migrations: readonly string[] = MIGRATIONS): number {
  const current = Number(db.pragma('user_version'));
  if (current > migrations.length) {
    throw new MigrationError(
      `the database was written by a newer Argos (schema ${current}, this one knows ${migrations.length}); ` +
        'upgrade Argos or point ARGOS_DB_PATH at another file',
    );
  }
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    });
  }
  return migrations.length;
}
