// Which database ARGOS_HUB_DATABASE_URL names: postgres:// (or postgresql://) for a fleet,
// anything else is an SQLite file.
import type { HubDatabase } from './database.js';

/** True for a PostgreSQL URL. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** The URL without its password, for logs and errors. */
export function databaseWhere(url: string): string {
  if (!isPostgresUrl(url)) return url;
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** Opens the database; each engine's module is loaded only when used. */
export async function openHubDatabase(url: string): Promise<HubDatabase> {
  if (isPostgresUrl(url)) {
    const { openPostgresHubDatabase } = await import('./postgres.js');
    return openPostgresHubDatabase({ url, where: databaseWhere(url) });
  }
  const { openSqliteHubDatabase } = await import('./sqlite.js');
  return openSqliteHubDatabase(url);
}
