// `argos alerts` over a real database file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess } from '../helpers/cli.js';
import { SqliteStore } from '../../src/store/store.js';
import { makeAlert } from '../helpers/alerts.js';
import type { Alert } from '../../src/core/alert.js';

async function argos(args: string[], env: Record<string, string>, cwd: string) {
  const r = await runInProcess(args, { env: { PATH: process.env.PATH, ...env }, cwd });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

void test('argos alerts lists stored alerts as a table or as JSON lines, filtered by --since and --limit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-cli-alerts-'));
  const db = join(dir, 'argos.db');
  try {
    const store = new SqliteStore({ path: db });
    await store.start();
    const now = Date.now();
    const hour = 3_600_000;
    const old = makeAlert(1, now - 5 * hour);
    const recent = [2, 3, 4].map((i) => makeAlert(i, now - (5 - i) * 60_000, { pod: { namespace: 'shop', name: `cart-${i}` } }));
    const nasty = makeAlert(5, now, { process: { pid: 9, exec_id: 'e9', binary: '/tmp/\u001b[2Jx', arguments: '' } });
    for (const a of [old, ...recent, nasty]) store.saveAlert(a, ['mqtt']);
    await store.stop();
    const env = { ARGOS_DB_PATH: db };

    const json = await argos(['alerts', '--since', '1h', '--json'], env, dir);
    assert.equal(json.code, 0, json.err);
    const lines = json.out.trim().split('\n').map((l) => JSON.parse(l) as Alert);
    assert.deepEqual(lines, [...recent, nasty], 'oldest first, the 5-hour-old one left out');

    const limited = await argos(['alerts', '--limit', '2', '--json'], env, dir);
    assert.deepEqual(
      limited.out.trim().split('\n').map((l) => (JSON.parse(l) as Alert).id),
      [recent[2].id, nasty.id],
    );

    const table = await argos(['alerts'], env, dir);
    assert.equal(table.code, 0);
    const rows = table.out.trim().split('\n');
    assert.match(rows[0], /^ID\s+TIME\s+SCORE\s+COUNT\s+PID\s+POD\s+BINARY$/);
    assert.equal(rows.length, 1 + 5 + 1);
    // Each row starts with the end of its alert's id: what `argos allow` takes.
    [old, ...recent, nasty].forEach((a, i) => assert.ok(rows[i + 1].startsWith(`${a.id.slice(-12)}  `), rows[i + 1]));
    assert.match(rows[2], /0\.900\s+1\s+1002\s+shop\/cart-2\s+\/usr\/bin\/tool2$/);
    assert.ok(!table.out.includes('\u001b'), 'no terminal escapes from the host');
    assert.match(rows[6], /^5 alerts; 5 messages waiting for delivery$/);

    const bad = await argos(['alerts', '--since', 'yesterday-ish'], env, dir);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--since "yesterday-ish" is neither a duration/);
    const missing = await argos(['alerts', '--db', join(dir, 'none.db')], env, dir);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no database at .*none\.db yet/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
