// The hub store against both engines: SQLite (a temporary file) and a real PostgreSQL server
// started for this file; the same cases, each on a fresh database.
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteHubDatabase } from '../../src/hub/store/sqlite.js';
import { openPostgresHubDatabase } from '../../src/hub/store/postgres.js';
import { HUB_STORE_CASES } from '../helpers/hub-store-cases.js';
import { Postgres } from '../helpers/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'argos-hub-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite', () => {
  HUB_STORE_CASES.forEach((c, i) => {
    const path = join(dir, `case-${i}.db`);
    void test(c.name, () => c.run(() => openSqliteHubDatabase(path)));
  });
});

describe('PostgreSQL', () => {
  let pg: Postgres;
  before(async () => {
    pg = await Postgres.start();
  });
  after(() => pg.dispose());
  HUB_STORE_CASES.forEach((c, i) => {
    let url: string | undefined;
    void test(c.name, () =>
      c.run(() => {
        url ??= pg.createDatabase(`case_${i}`);
        return openPostgresHubDatabase({ url, where: url });
      }),
    );
  });
});
