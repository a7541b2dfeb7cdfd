// Runs the shared store cases under Bun with bun:sqlite; prints one JSON result per case.
// Spawned by test/integration/store.test.ts: `bun test/helpers/run-store-cases.ts`.
import { runtimeOpener, isBun } from '../../src/store/open.js';
import { STORE_CASES } from './store-cases.js';

const results: { name: string; ok: boolean; error?: string }[] = [];
for (const c of STORE_CASES) {
  try {
    await c.run(runtimeOpener);
    results.push({ name: c.name, ok: true });
  } catch (e) {
    results.push({ name: c.name, ok: false, error: (e as Error).stack ?? String(e) });
  }
}
process.stdout.write(`${JSON.stringify({ bun: isBun(), driver: isBun() ? 'bun:sqlite' : 'better-sqlite3', results })}\n`);
