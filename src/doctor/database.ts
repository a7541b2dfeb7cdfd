// The database the daemon would use: readable and usable if it exists, creatable if it does
// not. Changes nothing: an existing file is opened read-only, a missing one is not created.
import { accessSync, constants, copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { Config } from '../config/load.js';
import { guarded, type Check } from './check.js';

/** The nearest folder of `path` that exists (the daemon creates the rest). */
function nearestExisting(path: string): string {
  let dir = dirname(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

async function inspectDatabase(config: Config): Promise<string> {
  const path = isAbsolute(config.dbPath) ? config.dbPath : join(process.cwd(), config.dbPath);
  if (!existsSync(path)) {
    const dir = nearestExisting(path);
    if (!statSync(dir).isDirectory()) throw new Error(`cannot open the database ${path} (ENOTDIR): ${dir} is not a folder`);
    try {
      accessSync(dir, constants.W_OK);
    } catch {
      throw new Error(`cannot create the database ${path} (EACCES): ${dir} is not writable by this user`);
    }
    return `${path} does not exist yet; the daemon will create it (${dir} is writable)`;
  }
  accessSync(path, constants.R_OK | constants.W_OK);
  // Even a read-only SQLite connection creates the -wal and -shm files of a WAL database when
  // no other connection has them open; then a copy in a temporary folder is looked at instead.
  const inUse = existsSync(`${path}-wal`) || existsSync(`${path}-shm`);
  const tmp = inUse ? undefined : mkdtempSync(join(tmpdir(), 'argos-doctor-db-'));
  try {
    const look = tmp === undefined ? path : join(tmp, 'argos.db');
    if (tmp !== undefined) copyFileSync(path, look);
    const { SqliteStore } = await import('../store/store.js');
    const store = new SqliteStore({ path: look, readonly: true });
    await store.start();
    try {
      const pending = store.outboxDepth();
      return `${path} is usable (${pending} message${pending === 1 ? '' : 's'} waiting for delivery)`;
    } finally {
      await store.stop();
    }
  } catch (e) {
    const message = (e as Error).message;
    throw new Error(tmp === undefined ? message : message.replaceAll(join(tmp, 'argos.db'), path), { cause: e });
  } finally {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  }
}

export const databaseCheck: Check = async (ctx) => [
  await guarded('database', () => (ctx.database ?? inspectDatabase)(ctx.config), `make ${ctx.config.dbPath}'s folder writable by this user, or set ARGOS_DB_PATH`, ctx.timeoutMs * 2),
];
