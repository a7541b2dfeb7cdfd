// The hub's schema, one text for both engines (BIGINT is an integer in SQLite too). The
// version lives in hub_schema; pending migrations run in one transaction, under a lock
// that keeps two hubs starting together from migrating twice. Append; never edit one that
// has shipped.
import { HubDatabaseError, type HubDatabase } from './database.js';

export const HUB_MIGRATIONS: readonly string[][] = [
  // 1: nodes (latest status, state and stats), alerts (as published), commands and results.
  [
    `CREATE TABLE hub_nodes (
      node TEXT PRIMARY KEY,
      first_seen BIGINT NOT NULL,
      last_seen BIGINT NOT NULL,
      status TEXT,
      status_since BIGINT,
      state TEXT,
      state_time BIGINT,
      stats TEXT,
      stats_time BIGINT
    )`,
    `CREATE TABLE hub_alerts (
      id TEXT PRIMARY KEY,
      node TEXT NOT NULL,
      time BIGINT NOT NULL,
      received BIGINT NOT NULL,
      kind TEXT NOT NULL,
      program TEXT NOT NULL,
      priority INTEGER NOT NULL,
      count INTEGER NOT NULL,
      json TEXT NOT NULL
    )`,
    'CREATE INDEX hub_alerts_time ON hub_alerts (time, id)',
    'CREATE INDEX hub_alerts_node_time ON hub_alerts (node, time)',
    'CREATE INDEX hub_alerts_program_time ON hub_alerts (program, time)',
    'CREATE INDEX hub_alerts_received ON hub_alerts (received)',
    `CREATE TABLE hub_commands (
      id TEXT PRIMARY KEY,
      node TEXT NOT NULL,
      command TEXT NOT NULL,
      body TEXT NOT NULL,
      created BIGINT NOT NULL,
      ok INTEGER,
      result TEXT,
      result_time BIGINT
    )`,
    'CREATE INDEX hub_commands_node ON hub_commands (node, created)',
  ],
];

/** Brings the schema up to date; returns the version reached. */
export async function migrateHub(db: HubDatabase, migrations: readonly string[][] = HUB_MIGRATIONS): Promise<number> {
  return db.exclusive(async (q) => {
    await q.run('CREATE TABLE IF NOT EXISTS hub_schema (version INTEGER NOT NULL)');
    const rows = await q.all('SELECT version FROM hub_schema');
    if (rows.length === 0) await q.run('INSERT INTO hub_schema (version) VALUES (0)');
    const current = rows.length === 0 ? 0 : Number(rows[0].version);
    if (current > migrations.length) {
      throw new HubDatabaseError(
        `the hub database ${db.where} was written by a newer Argos (schema ${current}, this one knows ${migrations.length}); upgrade this hub or point ARGOS_HUB_DATABASE_URL elsewhere`,
      );
    }
    for (let v = current; v < migrations.length; v++) {
      for (const statement of migrations[v]) await q.run(statement);
      await q.run('UPDATE hub_schema SET version = ?', [v + 1]);
    }
    return migrations.length;
  });
}
