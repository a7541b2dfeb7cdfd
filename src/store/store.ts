// The SQLite store: processes seen, alerts, the outbox of messages per reporter, counters
// snapshots and baseline traces. An alert and its outbox rows are written in one
// transaction, so a crash never leaves an alert that no reporter will send.
import { type Alert, normaliseAlert } from '../core/alert.js';
import type { AlertStore, BaselineStore, BaselineTrace, OutboxMessage, OutboxStore, ProcessRecord, QuarantinedTrace } from '../core/storage.js';
import { systemClock, type Clock } from '../core/time.js';
import type { Lifecycle, ProcessInfo } from '../core/types.js';

import type { DriverOpener, SqlDriver, SqlRow } from './driver.js';
import { migrate, MIGRATIONS } from './migrations.js';
import { isUnusableDatabase, openDatabaseFile, runtimeOpener, setAsideDatabase, UnusableDatabaseError } from './open.js';
import type { Logger } from '../core/logger.js';

export interface BaselineStats {
  traces: number;
  syscalls: number;
  binaries: number;
  first?: number;
  last?: number;
}

/** Calls and traces of one program in the baseline. */
export interface ProgramStats {
  program: string;
  traces: number;
  syscalls: number;
}

/** An operator's allowance: the program, and the highest score allowed (null: everything the program does). */
export interface Allowance {
  id: number;
  program: string;
  scoreMax: number | null;
  alertId: string | null;
  created: number;
}

export interface RetentionResult {
  alerts: number;
  processes: number;
  outbox: number;
  baseline: number;
  counters: number;
}

/** What the rest of the program needs from the database. All calls are synchronous. */
export interface Store extends AlertStore, OutboxStore, BaselineStore {
  getProcess(execId: string): ProcessRecord | undefined;
  /** Alerts raised at or after `sinceMs`, newest first. */
  listAlerts(sinceMs: number, limit: number): Alert[];
  getAlert(id: string): Alert | undefined;
  findAlertIds(ref: string, limit?: number): string[];
  quarantineStats(): { traces: number; syscalls: number };
  saveCounters(snapshot: Record<string, number>): void;
  /** `now`: the wall time ages are measured from (default the clock's). */
  retention(maxAgeMs: number, maxBytes: number, now?: number): RetentionResult;
  /** Bytes used by live pages (the file may be larger until space is reclaimed). */
  usedBytes(): number;
  iterateBaseline(): IterableIterator<BaselineTrace>;
  clearBaseline(): number;
  baselineStats(): BaselineStats;
  programStats(): ProgramStats[];
  /** Moves held-back traces (of one alert, or of one program) into the baseline; how many. */
  releaseQuarantine(by: { alertId: string } | { program: string }, maxCalls?: number): number;
  clearQuarantine(): number;
  addAllowance(a: Omit<Allowance, 'id' | 'created'>): Allowance;
  listAllowances(): Allowance[];
  clearAllowances(): number;
  /** The learning lifecycle's own values (JSON). */
  getLifecycle<T>(key: string): T | undefined;
  setLifecycle(key: string, value: unknown): void;
  /** Changes when another connection commits (the CLI writing while the daemon runs). */
  dataVersion(): number;
}

export interface SqliteStoreOptions {
  /** Database file, or `:memory:`. */
  path: string;
  opener?: DriverOpener;
  clock?: Clock;
  /** How long a writer waits for another process's lock. */
  busyTimeoutMs?: number;
  /**
   * A file that is not a usable Argos database (damaged, not SQLite, another application's)
   * is renamed aside with a timestamp and a fresh one created, instead of failing the start.
   * For the daemon; tools that only read leave the file alone.
   */
  setAsideUnusable?: boolean;
  /** Opens an existing database without writing anything to it (no migration): for tools that only look. */
  readonly?: boolean;
  /** Where setting a file aside is reported. */
  log?: Logger;
}

/** `PRAGMA application_id` of Argos databases ("Argo"). */
export const APPLICATION_ID = 0x4172676f;

/** Tables every Argos schema has. */
const OWN_TABLES = ['alerts', 'outbox', 'processes'];

const STATE_PENDING = 0;
const STATE_DELIVERED = 1;
const STATE_DEAD = 2;

/** Most rows deleted per step when shrinking to the size limit. */
const SHRINK_STEP_MAX = 1000;

type TracesTable = 'baseline' | 'quarantine';

/**
 * The largest size `cap` such that the sizes, each cut down to at most `cap`, add up to at
 * most `goal` (water filling): small ones stay whole, the largest are cut to the same size.
 */
export function commonCap(sizes: readonly number[], goal: number): number {
  const sorted = [...sizes].sort((a, b) => a - b);
  let below = 0;
  for (let i = 0; i < sorted.length; i++) {
    const rest = sorted.length - i;
    const cap = Math.floor((goal - below) / rest);
    if (cap < (sorted[i] ?? 0)) return Math.max(0, cap);
    below += sorted[i] ?? 0;
  }
  return Number.POSITIVE_INFINITY;
}

/** A full table of traces is trimmed to this share of its limit. */
const TRIM_TO = 0.9;

export class SqliteStore implements Store, Lifecycle {
  private dbOrNull: SqlDriver | undefined;
  /** Calls in the tables of traces, as of data_version `version` (see callTotal). */
  private totals: { version: number } & Partial<Record<TracesTable, number>> = { version: -1 };
  private readonly clock: Clock;

  constructor(private readonly options: SqliteStoreOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Opens (creating it 0600 if needed), checks and migrates the database. An unusable file
   * is set aside and replaced by a fresh one when `setAsideUnusable` is on.
   */
  async start(): Promise<void> {
    if (this.dbOrNull) return;
    const { path } = this.options;
    const opener = this.options.opener ?? runtimeOpener;
    const readonly = this.options.readonly === true;
    let db = await openDatabaseFile(path, opener, readonly);
    try {
      this.prepare(db);
    } catch (e) {
      db.close();
      if (!isUnusableDatabase(e)) throw e;
      if (!this.options.setAsideUnusable || readonly || path === ':memory:') throw e instanceof UnusableDatabaseError ? e : new UnusableDatabaseError(path, (e as Error).message);
      const movedTo = setAsideDatabase(path, this.clock.now());
      this.options.log?.error(
        { path, movedTo, reason: e instanceof UnusableDatabaseError ? e.reason : (e as Error).message },
        'the database file is damaged or not an Argos database: moved it aside (kept, not deleted) and started a fresh one',
      );
      db = await openDatabaseFile(path, opener);
      try {
        this.prepare(db);
      } catch (e2) {
        db.close();
        throw e2;
      }
    }
    this.dbOrNull = db;
  }

  /** Checks that `db` is an Argos database (or empty), sets it up and migrates it. */
  private prepare(db: SqlDriver): void {
    const path = this.options.path;
    db.exec(`PRAGMA busy_timeout = ${Math.trunc(this.options.busyTimeoutMs ?? 5000)}`);
    const version = Number(db.pragma('user_version'));
    const appId = Number(db.pragma('application_id'));
    if (appId !== 0 && appId !== APPLICATION_ID) throw new UnusableDatabaseError(path, `another application's database (application_id ${appId})`);
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all()
      .map((r) => String(r.name));
    if (version === 0 && tables.length > 0) throw new UnusableDatabaseError(path, `not an Argos database (its tables: ${tables.slice(0, 5).join(', ')})`);
    if (version > 0 && version <= MIGRATIONS.length && !OWN_TABLES.every((t) => tables.includes(t))) {
      throw new UnusableDatabaseError(path, `not an Argos database (schema ${version} without the tables ${OWN_TABLES.join(', ')})`);
    }
    const check = String(db.pragma('quick_check'));
    if (check !== 'ok') throw new UnusableDatabaseError(path, `damaged: ${check}`);
    if (this.options.readonly === true) {
      if (version === 0) throw new UnusableDatabaseError(path, 'empty: the daemon has not written it yet');
      if (version > MIGRATIONS.length) migrate(db); // throws: written by a newer Argos
      return;
    }
    // Must be chosen before anything is written (WAL mode writes the header): lets
    // retention give space back to the file system.
    if (version === 0) {
      db.exec('PRAGMA auto_vacuum = INCREMENTAL');
      db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
    }
    db.exec('PRAGMA journal_mode = WAL');
    // FULL: a committed alert survives power loss, not only a crash. Writes are rare
    // (alerts are throttled, processes and baseline are batched).
    db.exec('PRAGMA synchronous = FULL');
    db.exec('PRAGMA foreign_keys = ON');
    migrate(db);
  }

  async stop(): Promise<void> {
    this.close();
  }

  close(): void {
    const db = this.dbOrNull;
    this.dbOrNull = undefined;
    db?.close();
  }

  /** The driver's name once open (`better-sqlite3` or `bun:sqlite`). */
  get driverName(): string | undefined {
    return this.dbOrNull?.name;
  }

  private get db(): SqlDriver {
    if (!this.dbOrNull) throw new Error('the store is not open (call start() first)');
    return this.dbOrNull;
  }

  saveAlert(alert: Alert, reporters: readonly string[]): void {
    const db = this.db;
    const insert = db.prepare(
      `INSERT INTO alerts (id, time, node, exec_id, binary, pod_namespace, pod_name, score, threshold, count, json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const json = JSON.stringify(alert);
    db.transaction(() => {
      insert.run(
        alert.id,
        Date.parse(alert.time),
        alert.node,
        alert.process.exec_id,
        alert.process.binary,
        alert.pod?.namespace ?? null,
        alert.pod?.name ?? null,
        alert.kind === 'anomaly' ? alert.score : 0,
        alert.kind === 'anomaly' ? alert.threshold : 0,
        alert.count,
        json,
      );
      this.enqueue(alert.id, json, reporters);
    });
  }

  updateAlert(alert: Alert, reporters: readonly string[]): void {
    const db = this.db;
    const update = db.prepare('UPDATE alerts SET score = ?, count = ?, json = ? WHERE id = ?');
    const json = JSON.stringify(alert);
    db.transaction(() => {
      const r = update.run(alert.kind === 'anomaly' ? alert.score : 0, alert.count, json, alert.id);
      // Removed by retention meanwhile: nothing to update or send.
      if (r.changes > 0) this.enqueue(alert.id, json, reporters);
    });
  }

  private enqueue(alertId: string, json: string, reporters: readonly string[]): void {
    const ins = this.db.prepare('INSERT INTO outbox (reporter, alert_id, payload, created) VALUES (?, ?, ?, ?)');
    const now = this.clock.now();
    for (const r of reporters) ins.run(r, alertId, json, now);
  }

  upsertProcesses(records: readonly ProcessRecord[]): void {
    if (records.length === 0) return;
    const db = this.db;
    const up = db.prepare(
      `INSERT INTO processes (exec_id, pid, binary, arguments, pod_namespace, pod_name, container, first_seen, last_seen)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(exec_id) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)`,
    );
    db.transaction(() => {
      for (const { process: p, firstSeen, lastSeen } of records) {
        up.run(p.execId, p.pid, p.binary, p.arguments, p.pod?.namespace ?? null, p.pod?.name ?? null, p.pod?.container ?? null, firstSeen, lastSeen);
      }
    });
  }

  getProcess(execId: string): ProcessRecord | undefined {
    const r = this.db.prepare('SELECT * FROM processes WHERE exec_id = ?').get(execId);
    if (!r) return undefined;
    const process: ProcessInfo = { execId: String(r.exec_id), pid: Number(r.pid), binary: String(r.binary), arguments: String(r.arguments) };
    if (r.pod_namespace !== null && r.pod_name !== null) {
      process.pod = { namespace: String(r.pod_namespace), name: String(r.pod_name) };
      if (r.container !== null) process.pod.container = String(r.container);
    }
    return { process, firstSeen: Number(r.first_seen), lastSeen: Number(r.last_seen) };
  }

  pendingOutbox(reporter: string, limit: number): OutboxMessage[] {
    const rows = this.db
      .prepare('SELECT id, reporter, alert_id, payload, attempts, created FROM outbox WHERE reporter = ? AND state = 0 ORDER BY id LIMIT ?')
      .all(reporter, limit);
    return rows.map((r) => ({
      id: Number(r.id),
      reporter: String(r.reporter),
      alertId: String(r.alert_id),
      payload: String(r.payload),
      attempts: Number(r.attempts),
      created: Number(r.created),
    }));
  }

  markDelivered(ids: readonly number[]): void {
    if (ids.length === 0) return;
    const db = this.db;
    const up = db.prepare(`UPDATE outbox SET state = ${STATE_DELIVERED}, settled = ?, attempts = attempts + 1 WHERE id = ? AND state = ${STATE_PENDING}`);
    const now = this.clock.now();
    db.transaction(() => {
      for (const id of ids) up.run(now, id);
    });
  }

  markFailed(id: number, error: string, dead: boolean): void {
    const state = dead ? STATE_DEAD : STATE_PENDING;
    this.db
      .prepare(`UPDATE outbox SET attempts = attempts + 1, last_error = ?, state = ?, settled = ? WHERE id = ? AND state = ${STATE_PENDING}`)
      .run(error.slice(0, 500), state, dead ? this.clock.now() : null, id);
  }

  outboxDepth(reporter?: string): number {
    const row =
      reporter === undefined
        ? this.db.prepare('SELECT count(*) AS n FROM outbox WHERE state = 0').get()
        : this.db.prepare('SELECT count(*) AS n FROM outbox WHERE state = 0 AND reporter = ?').get(reporter);
    return Number(row?.n ?? 0);
  }

  listAlerts(sinceMs: number, limit: number): Alert[] {
    return this.db
      .prepare('SELECT json FROM alerts WHERE time >= ? ORDER BY time DESC, rowid DESC LIMIT ?')
      .all(sinceMs, limit)
      .map((r) => normaliseAlert(JSON.parse(String(r.json)) as Alert));
  }

  getAlert(id: string): Alert | undefined {
    const r = this.db.prepare('SELECT json FROM alerts WHERE id = ?').get(id);
    return r ? normaliseAlert(JSON.parse(String(r.json)) as Alert) : undefined;
  }

  /** Ids of the alerts whose id is `ref` or ends with it (the short ids `argos alerts` shows); at most `limit`. */
  findAlertIds(ref: string, limit = 2): string[] {
    const exact = this.db.prepare('SELECT id FROM alerts WHERE id = ?').get(ref);
    if (exact) return [String(exact.id)];
    const escaped = ref.replace(/[\\%_]/g, (c) => `\\${c}`);
    return this.db
      .prepare("SELECT id FROM alerts WHERE id LIKE ? ESCAPE '\\' LIMIT ?")
      .all(`%${escaped}`, limit)
      .map((r) => String(r.id));
  }

  saveCounters(snapshot: Record<string, number>): void {
    this.db.prepare('INSERT INTO counters (at, json) VALUES (?, ?)').run(this.clock.now(), JSON.stringify(snapshot));
  }

  usedBytes(): number {
    const db = this.db;
    const pageSize = Number(db.pragma('page_size'));
    return (Number(db.pragma('page_count')) - Number(db.pragma('freelist_count'))) * pageSize;
  }

  /**
   * By age: alerts (once every reporter has settled them), processes, delivered or dead
   * outbox rows, counters and baseline traces older than `maxAgeMs`. Pending messages are
   * kept however old. By size: while the live data exceeds `maxBytes`, the oldest settled
   * outbox rows go first, then the oldest alerts (even undelivered: the disk is the hard
   * limit), then processes, counters and baseline traces.
   */
  retention(maxAgeMs: number, maxBytes: number, now = this.clock.now()): RetentionResult {
    const db = this.db;
    const cutoff = now - maxAgeMs;
    const res: RetentionResult = { alerts: 0, processes: 0, outbox: 0, baseline: 0, counters: 0 };
    this.forgetTotals();
    db.transaction(() => {
      res.outbox += db.prepare('DELETE FROM outbox WHERE state <> 0 AND settled < ?').run(cutoff).changes;
      res.alerts += db
        .prepare('DELETE FROM alerts WHERE time < ? AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.alert_id = alerts.id AND o.state = 0)')
        .run(cutoff).changes;
      res.processes += db.prepare('DELETE FROM processes WHERE last_seen < ?').run(cutoff).changes;
      res.counters += db.prepare('DELETE FROM counters WHERE at < ?').run(cutoff).changes;
      res.baseline += db.prepare('DELETE FROM baseline WHERE started_at < ?').run(cutoff).changes;
      res.baseline += db.prepare('DELETE FROM quarantine WHERE started_at < ?').run(cutoff).changes;
    });
    // Oldest first, per table in this order; each step deletes about as many rows as the
    // excess bytes need at the table's average row size (so little more than needed goes).
    const steps: { key: keyof RetentionResult; table: string; sql: string }[] = [
      { key: 'outbox', table: 'outbox WHERE state <> 0', sql: 'DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state <> 0 ORDER BY id LIMIT ?)' },
      { key: 'alerts', table: 'alerts', sql: 'DELETE FROM alerts WHERE id IN (SELECT id FROM alerts ORDER BY time LIMIT ?)' },
      { key: 'processes', table: 'processes', sql: 'DELETE FROM processes WHERE exec_id IN (SELECT exec_id FROM processes ORDER BY last_seen LIMIT ?)' },
      { key: 'counters', table: 'counters', sql: 'DELETE FROM counters WHERE id IN (SELECT id FROM counters ORDER BY id LIMIT ?)' },
      { key: 'baseline', table: 'baseline', sql: 'DELETE FROM baseline WHERE id IN (SELECT id FROM baseline ORDER BY id LIMIT ?)' },
    ];
    for (const step of steps) {
      for (let used = this.usedBytes(); used > maxBytes; used = this.usedBytes()) {
        const rows = Number(db.prepare(`SELECT count(*) AS n FROM ${step.table}`).get()?.n ?? 0);
        if (rows === 0) break;
        const want = Math.ceil(((used - maxBytes) / used) * rows * 1.1);
        const n = db.prepare(step.sql).run(Math.min(SHRINK_STEP_MAX, Math.max(1, want))).changes;
        if (n === 0) break;
        res[step.key] += n;
      }
    }
    if (res.alerts + res.processes + res.outbox + res.baseline + res.counters > 0) {
      db.exec('PRAGMA incremental_vacuum');
      db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    }
    return res;
  }

  appendBaseline(traces: readonly BaselineTrace[], maxCalls?: number): void {
    this.insertTraces('baseline', traces, maxCalls);
  }

  quarantine(traces: readonly QuarantinedTrace[], maxCalls?: number): void {
    this.insertTraces('quarantine', traces, maxCalls);
  }

  /** Adds traces (a quarantined one with the alert that held it back) in one transaction, then keeps the table's size. */
  private insertTraces(table: TracesTable, traces: readonly QuarantinedTrace[], maxCalls: number | undefined): void {
    if (traces.length === 0) return;
    const db = this.db;
    const ins = db.prepare(`INSERT INTO ${table} (exec_id, binary, program, started_at, length, syscalls${table === 'quarantine' ? ', alert_id' : ''}) VALUES (?, ?, ?, ?, ?, ?${table === 'quarantine' ? ', ?' : ''})`);
    db.transaction(() => {
      let calls = 0;
      for (const t of traces) {
        const s = t.syscalls.trim();
        const length = s === '' ? 0 : s.split(/\s+/).length;
        const row = [t.execId, t.binary, t.program ?? t.binary, t.startedAt, length, s];
        if (table === 'quarantine') ins.run(...row, t.alertId ?? null);
        else ins.run(...row);
        calls += length;
      }
      this.addCalls(table, calls);
      if (maxCalls !== undefined) this.trim(table, maxCalls);
    });
  }

  /**
   * Keeps a table of traces under `maxCalls` calls. Once over, it cuts the largest programs
   * down to one common size (the rare ones keep everything), oldest traces first, until the
   * table holds TRIM_TO of the limit, so that a full baseline is not trimmed on every batch.
   */
  private trim(table: TracesTable, maxCalls: number): void {
    const db = this.db;
    if (this.callTotal(table) <= maxCalls) return;
    const sizes = db
      .prepare(`SELECT program, sum(length) AS calls FROM ${table} GROUP BY program`)
      .all()
      .map((r) => ({ program: r.program === null ? null : String(r.program), calls: Number(r.calls) }));
    const cap = commonCap(
      sizes.map((p) => p.calls),
      Math.floor(maxCalls * TRIM_TO),
    );
    // The oldest traces of a program until `excess` calls are gone (the one crossing it too).
    const cut = db.prepare(`DELETE FROM ${table} WHERE id IN (SELECT id FROM (SELECT id, length, sum(length) OVER (ORDER BY id) AS upto FROM ${table} WHERE program IS ?) WHERE upto - length < ?)`);
    for (const p of sizes) if (p.calls > cap) cut.run(p.program, p.calls - cap);
    this.totals[table] = undefined;
  }

  /** Calls in a table of traces: counted once, then kept up to date (another connection's write counts again). */
  private callTotal(table: TracesTable): number {
    const version = this.dataVersion();
    if (version !== this.totals.version) this.totals = { version };
    let n = this.totals[table];
    if (n === undefined) {
      n = Number(this.db.prepare(`SELECT coalesce(sum(length), 0) AS n FROM ${table}`).get()?.n ?? 0);
      this.totals[table] = n;
    }
    return n;
  }

  private addCalls(table: TracesTable, calls: number): void {
    const n = this.totals[table];
    if (n !== undefined) this.totals[table] = n + calls;
  }

  /** The tables of traces changed in a way not counted: count again when next asked. */
  private forgetTotals(): void {
    this.totals = { version: -1 };
  }

  releaseQuarantine(by: { alertId: string } | { program: string }, maxCalls?: number): number {
    const db = this.db;
    this.forgetTotals();
    // A program is named by its key (image:binary in a pod) or by its binary.
    const [where, values] = 'alertId' in by ? ['alert_id = ?', [by.alertId]] : ['(program = ? OR binary = ?)', [by.program, by.program]];
    let moved = 0;
    db.transaction(() => {
      moved = db.prepare(`INSERT INTO baseline (exec_id, binary, program, started_at, length, syscalls) SELECT exec_id, binary, program, started_at, length, syscalls FROM quarantine WHERE ${where} ORDER BY id`).run(...values).changes;
      db.prepare(`DELETE FROM quarantine WHERE ${where}`).run(...values);
      if (maxCalls !== undefined) this.trim('baseline', maxCalls);
    });
    return moved;
  }

  clearQuarantine(): number {
    this.forgetTotals();
    return this.db.prepare('DELETE FROM quarantine').run().changes;
  }

  addAllowance(a: Omit<Allowance, 'id' | 'created'>): Allowance {
    const created = this.clock.now();
    const r = this.db.prepare('INSERT INTO allowances (program, score_max, alert_id, created) VALUES (?, ?, ?, ?)').run(a.program, a.scoreMax, a.alertId, created);
    return { ...a, id: Number(r.lastInsertRowid), created };
  }

  listAllowances(): Allowance[] {
    return this.db
      .prepare('SELECT id, program, score_max, alert_id, created FROM allowances ORDER BY id')
      .all()
      .map((r) => ({ id: Number(r.id), program: String(r.program), scoreMax: r.score_max === null ? null : Number(r.score_max), alertId: r.alert_id === null ? null : String(r.alert_id), created: Number(r.created) }));
  }

  clearAllowances(): number {
    return this.db.prepare('DELETE FROM allowances').run().changes;
  }

  getLifecycle<T>(key: string): T | undefined {
    const r = this.db.prepare('SELECT value FROM lifecycle WHERE key = ?').get(key);
    return r === undefined ? undefined : (JSON.parse(String(r.value)) as T);
  }

  setLifecycle(key: string, value: unknown): void {
    if (value === undefined) this.db.prepare('DELETE FROM lifecycle WHERE key = ?').run(key);
    else this.db.prepare('INSERT INTO lifecycle (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
  }

  dataVersion(): number {
    return Number(this.db.pragma('data_version'));
  }

  programStats(): ProgramStats[] {
    return this.db
      .prepare('SELECT coalesce(program, binary) AS program, count(*) AS traces, coalesce(sum(length), 0) AS syscalls FROM baseline GROUP BY coalesce(program, binary) ORDER BY program')
      .all()
      .map((r) => ({ program: String(r.program), traces: Number(r.traces), syscalls: Number(r.syscalls) }));
  }

  *iterateBaseline(): IterableIterator<BaselineTrace> {
    // Paged by id, so the caller may write to the store between traces.
    let after = 0;
    const page = this.db.prepare('SELECT id, exec_id, binary, program, started_at, syscalls FROM baseline WHERE id > ? ORDER BY id LIMIT 256');
    for (;;) {
      const rows: SqlRow[] = page.all(after);
      if (rows.length === 0) return;
      for (const r of rows) {
        yield { execId: String(r.exec_id), binary: String(r.binary), program: r.program === null ? String(r.binary) : String(r.program), startedAt: Number(r.started_at), syscalls: String(r.syscalls) };
      }
      after = Number(rows[rows.length - 1].id);
    }
  }

  /** Traces held back from the baseline, and their calls. */
  quarantineStats(): { traces: number; syscalls: number } {
    const r = this.db.prepare('SELECT count(*) AS traces, coalesce(sum(length), 0) AS syscalls FROM quarantine').get();
    return { traces: Number(r?.traces ?? 0), syscalls: Number(r?.syscalls ?? 0) };
  }

  clearBaseline(): number {
    this.forgetTotals();
    return this.db.prepare('DELETE FROM baseline').run().changes;
  }

  baselineStats(): BaselineStats {
    const r = this.db
      .prepare('SELECT count(*) AS traces, coalesce(sum(length), 0) AS syscalls, count(DISTINCT binary) AS binaries, min(started_at) AS first, max(started_at) AS last FROM baseline')
      .get();
    const stats: BaselineStats = { traces: Number(r?.traces ?? 0), syscalls: Number(r?.syscalls ?? 0), binaries: Number(r?.binaries ?? 0) };
    if (r?.first !== null && r?.first !== undefined) stats.first = Number(r.first);
    if (r?.last !== null && r?.last !== undefined) stats.last = Number(r.last);
    return stats;
  }
}
