// What the commands that read or change a device's state share (`argos alerts`, `status`,
// `allow`, `model`): the configuration, the database (which must exist: the daemon creates
// it) and the folder of the device's model versions.
import { existsSync } from 'node:fs';
import type { Config } from '../config/load.js';
import { stateDirOf, learnsDevice } from '../daemon/learning.js';
import { ModelStore } from '../learn/model-store.js';
import { SqliteStore } from '../store/store.js';
import { UsageError } from './errors.js';

export interface DeviceDb {
  config: Config;
  store: SqliteStore;
  models: ModelStore;
  node: string;
  /** The daemon learns this device (ARGOS_LEARNING=auto and no model configured). */
  learning: boolean;
}

/** Opens the device's database for `fn` and closes it after. */
export async function withDeviceDb<T>(config: Config, fn: (d: DeviceDb) => Promise<T> | T): Promise<T> {
  if (!existsSync(config.dbPath)) {
    throw new UsageError(`no database at ${config.dbPath} yet: the daemon creates it when it starts (or set ARGOS_DB_PATH / --db)`, 1);
  }
  const store = new SqliteStore({ path: config.dbPath });
  await store.start();
  try {
    return await fn({ config, store, models: new ModelStore(stateDirOf(config)), node: config.nodeName ?? 'unknown', learning: learnsDevice(config) });
  } finally {
    await store.stop();
  }
}
