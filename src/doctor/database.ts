// The database the daemon would use can be opened.
import { isAbsolute, join } from 'node:path';
import type { Config } from '../config/load.js';
import { guarded, type Check } from './check.js';

/** Opens the database the daemon would use (creating and migrating it) and closes it again. */
async function openDatabase(config: Config): Promise<string> {
  const { SqliteStore } = await import('../store/store.js');
  const path = isAbsolute(config.dbPath) ? config.dbPath : join(process.cwd(), config.dbPath);
  const store = new SqliteStore({ path });
  await store.start();
  try {
    const pending = store.outboxDepth();
    return `${path} is writable (${pending} message${pending === 1 ? '' : 's'} waiting for delivery)`;
  } finally {
    await store.stop();
  }
}

export const databaseCheck: Check = async (ctx) => [
  await guarded('database', () => (ctx.database ?? openDatabase)(ctx.config), `make ${ctx.config.dbPath}'s folder writable by this user, or set ARGOS_DB_PATH`, ctx.timeoutMs * 2),
];
