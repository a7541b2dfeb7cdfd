// The store against both drivers: better-sqlite3 here, bun:sqlite in a Bun child running
// the very same cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openBetterSqlite3 } from '../../src/store/better-sqlite3.js';
import type { DriverOpener } from '../../src/store/driver.js';
import { STORE_CASES } from '../helpers/store-cases.js';

const opener: DriverOpener = async (path, options) => openBetterSqlite3(path, options);

for (const c of STORE_CASES) {
  void test(`better-sqlite3: ${c.name}`, () => c.run(opener));
}

void test('bun:sqlite: the same cases pass under Bun', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const bun = `${root}node_modules/.bin/bun`;
  const r = spawnSync(bun, ['test/helpers/run-store-cases.ts'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `bun exited with ${r.status}: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { bun: boolean; driver: string; results: { name: string; ok: boolean; error?: string }[] };
  assert.equal(out.bun, true);
  assert.equal(out.driver, 'bun:sqlite');
  assert.deepEqual(
    out.results.map((x) => x.name),
    STORE_CASES.map((c) => c.name),
  );
  for (const x of out.results) assert.ok(x.ok, `${x.name}: ${x.error ?? ''}`);
});
