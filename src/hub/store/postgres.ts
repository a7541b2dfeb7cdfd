// HubDatabase over PostgreSQL: the one file that imports pg. A small pool; BIGINT comes back
// as a number (times in milliseconds fit); `?` placeholders become $1, $2, ...
import pg from 'pg';
import { HubDatabaseError, type HubDatabase, type HubQueries, type HubRow, type HubSqlValue } from './database.js';

export interface PostgresOptions {
  url: string;
  /** Connections in the pool (default 4). */
  poolSize?: number;
  /** Shown in errors: the URL without its password. */
  where: string;
}

/** Lock key of schema migrations (any constant shared by every hub). */
const MIGRATION_LOCK = 0x61726773;
const INT8_OID = 20;

/** `?` → `$n`, outside quoted strings. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  let quoted = false;
  let out = '';
  for (const ch of sql) {
    if (ch === "'") quoted = !quoted;
    out += ch === '?' && !quoted ? `$${++n}` : ch;
  }
  return out;
}

export async function openPostgresHubDatabase(o: PostgresOptions): Promise<HubDatabase> {
  const pool = new pg.Pool({
    connectionString: o.url,
    max: o.poolSize ?? 4,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    types: { getTypeParser: (oid: number, format?: string) => (oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) },
  });
  // An idle client losing its connection must not crash the hub; the next query reconnects.
  pool.on('error', () => undefined);
  try {
    const c = await pool.connect();
    c.release();
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new HubDatabaseError(`cannot connect to PostgreSQL at ${o.where} (${(e as Error).message}); check ARGOS_HUB_DATABASE_URL and that the server accepts this user`);
  }
  return new PostgresHubDatabase(pool, o.where);
}

type Client = Pick<pg.PoolClient, 'query'>;

/**
 * PostgreSQL text cannot hold U+0000, which a hostile host string may carry: it becomes
 * U+FFFD in columns and in lookups alike (JSON columns escape it and keep it exact).
 */
function textSafe(params: readonly HubSqlValue[]): HubSqlValue[] {
  return params.map((v) => (typeof v === 'string' && v.includes('\u0000') ? v.replaceAll('\u0000', '\ufffd') : v));
}

function queriesOf(c: Client): HubQueries {
  return {
    all: async (sql, params = []) => (await c.query<HubRow>(numberPlaceholders(sql), textSafe(params))).rows,
    run: async (sql, params = []) => (await c.query(numberPlaceholders(sql), textSafe(params))).rowCount ?? 0,
  };
}

class PostgresHubDatabase implements HubDatabase {
  readonly dialect = 'postgres';
  private readonly queries: HubQueries;

  constructor(
    private readonly pool: pg.Pool,
    readonly where: string,
  ) {
    this.queries = queriesOf(pool);
  }

  all(sql: string, params?: readonly HubSqlValue[]): Promise<HubRow[]> {
    return this.queries.all(sql, params);
  }

  run(sql: string, params?: readonly HubSqlValue[]): Promise<number> {
    return this.queries.run(sql, params);
  }

  async transaction<T>(fn: (q: HubQueries) => Promise<T>, lock = false): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      if (lock) await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const r = await fn(queriesOf(client));
      await client.query('COMMIT');
      return r;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw e;
    } finally {
      client.release(broken);
    }
  }

  exclusive<T>(fn: (q: HubQueries) => Promise<T>): Promise<T> {
    return this.transaction(fn, true);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
