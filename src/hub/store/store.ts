// The hub's store: ingested messages in, nodes, alerts and commands out, on PostgreSQL or
// SQLite through one HubDatabase. Idempotent: an alert id is stored once; a later message
// with the same id and a larger count (the daemon's final count after throttling) rewrites
// it; a replay of the same message, or an id that another node already owns, changes
// nothing. Latest-value topics (state, stats) never let an older message overwrite a newer
// one, whichever hub wrote first.
import type { Alert, AlertKind } from '../../core/alert.js';
import type { CommandResult, NodeCommand, StatePayload, StatsPayload } from '../../core/mqtt.js';
import type { HubDatabase, HubQueries, HubRow, HubSqlValue } from './database.js';
import { migrateHub } from './migrations.js';
import type { Lifecycle } from '../../core/types.js';
import type { AlertFilter, HubNode, HubRetentionSummary, IngestRecord, StoredCommand, TimelineBucket, WriteSummary } from './records.js';

const DAY_MS = 86_400_000;

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const parse = <T>(v: unknown): T | null => (typeof v === 'string' ? (JSON.parse(v) as T) : null);

/** `(?, ?, ?), (?, ?, ?)` for `rows` rows of `width` values. */
function placeholders(rows: number, width: number): string {
  const one = `(${Array.from({ length: width }, () => '?').join(', ')})`;
  return Array.from({ length: rows }, () => one).join(', ');
}

/** A time in ms from an ISO string of a payload, or `fallback` when it is not one. */
export function timeOf(s: string, fallback: number): number {
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : fallback;
}

/** The last record of each node among `records` of one kind (later messages win). */
function lastPerNode<R extends IngestRecord>(records: readonly R[]): R[] {
  const m = new Map<string, R>();
  for (const r of records) m.set(r.node, r);
  return [...m.values()];
}

export interface HubStoreOptions {
  /** Opens the database (at start). */
  open: () => Promise<HubDatabase>;
}

export class HubStore implements Lifecycle {
  private database: HubDatabase | undefined;

  constructor(private readonly o: HubStoreOptions) {}

  /** Opens the database and brings its schema up to date. */
  async start(): Promise<void> {
    if (this.database) return;
    const db = await this.o.open();
    try {
      await migrateHub(db);
    } catch (e) {
      await db.close().catch(() => undefined);
      throw e;
    }
    this.database = db;
  }

  async stop(): Promise<void> {
    const db = this.database;
    this.database = undefined;
    await db?.close();
  }

  /** The open database (after start). */
  get db(): HubDatabase {
    if (!this.database) throw new Error('the hub store is not started');
    return this.database;
  }

  /** Stores a batch of ingested messages in one transaction. */
  async write(records: readonly IngestRecord[]): Promise<WriteSummary> {
    if (records.length === 0) return { inserted: 0, updated: 0, duplicates: 0 };
    return this.db.transaction(async (q) => {
      await this.touchNodes(q, records);
      for (const r of lastPerNode(records.filter((x) => x.kind === 'status'))) {
        await q.run(
          `UPDATE hub_nodes SET status = ?, status_since = CASE WHEN status = ? THEN status_since ELSE ? END WHERE node = ?${r.retained ? ' AND status IS NULL' : ''}`,
          [r.status, r.status, r.received, r.node],
        );
      }
      for (const r of records) {
        if (r.kind === 'state') await this.latest(q, 'state', r.node, JSON.stringify(r.state), timeOf(r.state.time, r.received));
        else if (r.kind === 'stats') await this.latest(q, 'stats', r.node, JSON.stringify(r.stats), timeOf(r.stats.time, r.received));
        else if (r.kind === 'result') await this.saveResult(q, r.node, r.result, r.received);
      }
      const alerts: (IngestRecord & { kind: 'alert' })[] = [];
      for (const r of records) if (r.kind === 'alert') alerts.push(r);
      return this.saveAlerts(q, alerts);
    });
  }

  private async touchNodes(q: HubQueries, records: readonly IngestRecord[]): Promise<void> {
    const seen = new Map<string, number>();
    for (const r of records) seen.set(r.node, Math.max(seen.get(r.node) ?? 0, r.received));
    const nodes = [...seen].sort(([a], [b]) => (a < b ? -1 : 1));
    await q.run(
      `INSERT INTO hub_nodes (node, first_seen, last_seen) VALUES ${placeholders(nodes.length, 3)}
       ON CONFLICT (node) DO UPDATE SET last_seen = CASE WHEN excluded.last_seen > hub_nodes.last_seen THEN excluded.last_seen ELSE hub_nodes.last_seen END`,
      nodes.flatMap(([node, t]) => [node, t, t]),
    );
  }

  /** Keeps the newest `state` or `stats` of a node by the time the node gave it. */
  private async latest(q: HubQueries, column: 'state' | 'stats', node: string, json: string, time: number): Promise<void> {
    await q.run(`UPDATE hub_nodes SET ${column} = ?, ${column}_time = ? WHERE node = ? AND (${column}_time IS NULL OR ${column}_time <= ?)`, [json, time, node, time]);
  }

  private async saveResult(q: HubQueries, node: string, result: CommandResult & { id: string }, received: number): Promise<void> {
    // A result for a command this hub did not send (another tool's) is kept too, without its command.
    await q.run(
      `INSERT INTO hub_commands (id, node, command, body, created, ok, result, result_time) VALUES (?, ?, ?, 'null', ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET ok = excluded.ok, result = excluded.result, result_time = excluded.result_time WHERE hub_commands.node = excluded.node`,
      [result.id, node, result.command ?? 'unknown', received, result.ok ? 1 : 0, JSON.stringify(result), received],
    );
  }

  private async saveAlerts(q: HubQueries, records: readonly (IngestRecord & { kind: 'alert' })[]): Promise<WriteSummary> {
    const summary: WriteSummary = { inserted: 0, updated: 0, duplicates: 0 };
    if (records.length === 0) return summary;
    // The same id twice in one batch: the larger count wins (one row may change once per statement).
    const byId = new Map<string, IngestRecord & { kind: 'alert' }>();
    for (const r of records) {
      const prev = byId.get(r.alert.id);
      if (prev === undefined || r.alert.count > prev.alert.count) byId.set(r.alert.id, r);
      if (prev !== undefined) summary.duplicates++;
    }
    const ids = [...byId.keys()].sort();
    const rows: HubSqlValue[] = [];
    for (const id of ids) {
      const { alert: a, node, received } = byId.get(id)!;
      rows.push(id, node, timeOf(a.time, received), received, a.kind, a.program, a.priority, a.count, JSON.stringify(a));
    }
    // One statement: new ids are inserted; a known id of the same node with a larger count is
    // rewritten (keeping its first `received`); anything else is left alone and returns no row.
    const changed = await q.all(
      `INSERT INTO hub_alerts (id, node, time, received, kind, program, priority, count, json) VALUES ${placeholders(ids.length, 9)}
       ON CONFLICT (id) DO UPDATE SET count = excluded.count, priority = excluded.priority, json = excluded.json
       WHERE excluded.count > hub_alerts.count AND excluded.node = hub_alerts.node
       RETURNING id, received`,
      rows,
    );
    for (const row of changed) {
      // An inserted row has the received time of this message; a rewritten one keeps its first.
      if (num(row.received) === byId.get(String(row.id))?.received) summary.inserted++;
      else summary.updated++;
    }
    summary.duplicates += ids.length - changed.length;
    return summary;
  }

  /** Every node, by name, with its alerts of the last 24 hours before `now`. */
  async nodes(now: number): Promise<HubNode[]> {
    const rows = await this.db.all(
      `SELECT n.node, n.first_seen, n.last_seen, n.status, n.status_since, n.state, n.stats,
        (SELECT COUNT(*) FROM hub_alerts a WHERE a.node = n.node AND a.time >= ?) AS alerts24h
       FROM hub_nodes n ORDER BY n.node`,
      [now - DAY_MS],
    );
    return rows.map((r) => {
      const state = parse<StatePayload>(r.state);
      const status = r.status === 'online' || r.status === 'offline' ? r.status : 'unknown';
      return {
        node: String(r.node),
        status,
        since: iso(numOrNull(r.status_since)),
        firstSeen: iso(num(r.first_seen)) ?? '',
        lastSeen: iso(num(r.last_seen)) ?? '',
        state: state?.state ?? null,
        model: state?.model ?? null,
        stateDetail: state,
        alerts24h: num(r.alerts24h),
        stats: parse<StatsPayload>(r.stats),
      };
    });
  }

  async nodeExists(node: string): Promise<boolean> {
    return (await this.db.all('SELECT 1 AS x FROM hub_nodes WHERE node = ?', [node])).length > 0;
  }

  /** Alerts as published, newest first. */
  async alerts(f: AlertFilter): Promise<Alert[]> {
    const where: string[] = [];
    const params: HubSqlValue[] = [];
    const add = (clause: string, v: HubSqlValue | undefined) => {
      if (v === undefined) return;
      where.push(clause);
      params.push(v);
    };
    add('node = ?', f.node);
    add('program = ?', f.program);
    add('kind = ?', f.kind);
    add('time >= ?', f.since);
    add('time < ?', f.before);
    params.push(f.limit);
    const rows = await this.db.all(`SELECT json FROM hub_alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY time DESC, id DESC LIMIT ?`, params);
    return rows.map((r) => JSON.parse(String(r.json)) as Alert);
  }

  async alert(id: string): Promise<Alert | undefined> {
    const rows = await this.db.all('SELECT json FROM hub_alerts WHERE id = ?', [id]);
    return rows.length ? (JSON.parse(String(rows[0].json)) as Alert) : undefined;
  }

  /** Alerts per kind in buckets of `bucketMs` from `since`. */
  async timeline(since: number, bucketMs: number, node?: string): Promise<TimelineBucket[]> {
    const params: HubSqlValue[] = [bucketMs, since];
    if (node !== undefined) params.push(node);
    const rows = await this.db.all(
      `SELECT time / ? AS b, kind, COUNT(*) AS n FROM hub_alerts WHERE time >= ? ${node !== undefined ? 'AND node = ?' : ''} GROUP BY b, kind ORDER BY b`,
      params,
    );
    const buckets = new Map<number, TimelineBucket>();
    for (const r of rows) {
      const t = Math.floor(num(r.b)) * bucketMs;
      const b = buckets.get(t) ?? { t, anomaly: 0, new_program: 0 };
      const kind = r.kind as AlertKind;
      if (kind === 'anomaly' || kind === 'new_program') b[kind] += num(r.n);
      buckets.set(t, b);
    }
    return [...buckets.values()];
  }

  /** A command as it is published (its result comes later through `write`). */
  async saveCommand(node: string, command: NodeCommand, created: number): Promise<void> {
    await this.db.run('INSERT INTO hub_commands (id, node, command, body, created) VALUES (?, ?, ?, ?, ?)', [command.id, node, command.command, JSON.stringify(command), created]);
  }

  /** Removes a command that could not be published. */
  async deleteCommand(id: string): Promise<void> {
    await this.db.run('DELETE FROM hub_commands WHERE id = ? AND result IS NULL', [id]);
  }

  /** A node's commands, newest first. */
  async commands(node: string, limit: number): Promise<StoredCommand[]> {
    const rows = await this.db.all('SELECT node, body, created, result, result_time FROM hub_commands WHERE node = ? ORDER BY created DESC, id DESC LIMIT ?', [node, limit]);
    return rows.map((r: HubRow) => ({
      node: String(r.node),
      command: parse<NodeCommand>(r.body),
      created: num(r.created),
      result: parse<CommandResult>(r.result),
      resultTime: numOrNull(r.result_time),
    }));
  }

  /** Deletes alerts and commands received before `before` (ms). */
  async retention(before: number): Promise<HubRetentionSummary> {
    return this.db.transaction(async (q) => ({
      alerts: await q.run('DELETE FROM hub_alerts WHERE received < ?', [before]),
      commands: await q.run('DELETE FROM hub_commands WHERE created < ?', [before]),
    }));
  }
}
