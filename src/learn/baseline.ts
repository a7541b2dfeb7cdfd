// Training data from the device's own baseline (recorded by `argos learn` into the database):
// one trace per recorded process, syscall names as stored ("unknown" = a call the recorder
// could not name).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { SqliteStore } from '../store/store.js';
import { DataError, type Trace, type TrainingData } from '../model/traces.js';

export async function readBaseline(dbPath: string): Promise<TrainingData> {
  if (!existsSync(dbPath)) throw new DataError(`${dbPath} does not exist; record this device's normal behaviour first with "argos learn --db ${dbPath}"`);
  const store = new SqliteStore({ path: dbPath });
  try {
    await store.start();
  } catch (e) {
    throw new DataError(`${dbPath} cannot be opened as an Argos database (${(e as Error).message})`);
  }
  const traces: Trace[] = [];
  const hash = createHash('sha256');
  try {
    for (const row of store.iterateBaseline()) {
      hash.update(`${row.execId}\0${row.syscalls}\n`);
      const calls = row.syscalls.split(' ').filter((n) => n !== '').map((n) => (n === 'unknown' ? null : n));
      if (calls.length > 0) traces.push({ source: `baseline#${row.execId}`, calls, execId: row.execId, ...(row.program === undefined || row.program === '' || row.program === 'unknown' ? {} : { program: row.program }) });
    }
  } finally {
    await store.stop();
  }
  if (traces.length === 0) throw new DataError(`the baseline in ${dbPath} is empty; record this device's normal behaviour first with "argos learn --db ${dbPath}"`);
  return { label: `baseline:${dbPath}`, traces, sha256: hash.digest('hex'), abi: 'names' };
}
