import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDirCandidates, extractOnce } from '../../src/runtime/cache-dir.js';

const enc = (s: string) => new TextEncoder().encode(s);

function scratch(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'argos-cache-test-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

void test('cache folder candidates: explicit, systemd, XDG, root, home, next to the binary, temp', () => {
  const dirs = cacheDirCandidates({
    env: { ARGOS_CACHE_DIR: '/opt/c', CACHE_DIRECTORY: '/var/cache/argos:/var/cache/other', XDG_CACHE_HOME: '/x', HOME: '/home/u' },
    execPath: '/usr/local/bin/argos',
    uid: 0,
  });
  assert.deepEqual(dirs.slice(0, 5), ['/opt/c', '/var/cache/argos', '/x/argos', '/home/u/.cache/argos', '/usr/local/bin/.argos-cache']);
  assert.match(dirs[5], /argos-cache-0$/);
  const user = cacheDirCandidates({ env: { HOME: '/', XDG_CACHE_HOME: 'relative' }, execPath: '/b/argos', uid: 1000 });
  assert.deepEqual(user.slice(0, 1), ['/b/.argos-cache'], 'relative XDG and HOME=/ are ignored; /var/cache only for root');
});

void test('extracts once, reuses on the next start, and removes older versions', (t) => {
  const root = scratch(t);
  let reads = 0;
  const files = [
    { rel: 'lib/a.so', read: () => (reads++, enc('AAA')) },
    { rel: 'b.txt', read: () => (reads++, enc('BBB')) },
  ];
  const first = extractOnce([root], 'ort', 'k1', files);
  assert.equal(first.created, true);
  assert.equal(readFileSync(join(first.dir, 'lib/a.so'), 'utf8'), 'AAA');
  assert.equal(reads, 2);
  const mtime = statSync(join(first.dir, 'b.txt')).mtimeMs;

  const again = extractOnce([root], 'ort', 'k1', files);
  assert.deepEqual(again, { dir: first.dir, created: false });
  assert.equal(reads, 2, 'a complete folder is not rewritten');
  assert.equal(statSync(join(first.dir, 'b.txt')).mtimeMs, mtime);

  mkdirSync(join(root, 'assets-zzz'));
  const next = extractOnce([root], 'ort', 'k2', files);
  assert.equal(next.created, true);
  assert.deepEqual(readdirSync(root).sort(), ['assets-zzz', 'ort-k2'], 'the old ort version is gone, other names stay');
});

void test('an incomplete folder (interrupted extraction) is redone', (t) => {
  const root = scratch(t);
  mkdirSync(join(root, 'ort-k1'));
  const r = extractOnce([root], 'ort', 'k1', [{ rel: 'x', read: () => enc('X') }]);
  assert.equal(r.created, true);
  assert.equal(readFileSync(join(r.dir, 'x'), 'utf8'), 'X');
  assert.deepEqual(readdirSync(root), ['ort-k1'], 'no temporary folders left');
});

void test('an unusable candidate is skipped; none usable is a readable error', (t) => {
  const root = scratch(t);
  const plainFile = join(root, 'plain');
  writeFileSync(plainFile, '');
  const good = join(root, 'good');
  const files = [{ rel: 'x', read: () => enc('X') }];
  const r = extractOnce([join(plainFile, 'below'), good], 'ort', 'k', files);
  assert.equal(r.dir, join(good, 'ort-k'));
  assert.throws(
    () => extractOnce([join(plainFile, 'below')], 'ort', 'k', files),
    (e: Error) => /cannot unpack ort into a cache folder \(.*below: ENOTDIR\).*ARGOS_CACHE_DIR/.test(e.message),
  );
});

void test('folders others could have written to are not used', (t) => {
  const root = scratch(t);
  const files = [{ rel: 'x', read: () => enc('X') }];
  const shared = join(root, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o777);
  const link = join(root, 'link');
  symlinkSync(join(root, 'elsewhere'), link);
  mkdirSync(join(root, 'elsewhere'));
  const candidates = [shared, link];
  if (process.getuid?.() === 0) {
    const foreign = join(root, 'foreign');
    mkdirSync(foreign);
    chownSync(foreign, 12345, 12345);
    candidates.push(foreign);
  }
  const good = join(root, 'good');
  const r = extractOnce([...candidates, good], 'ort', 'k', files);
  assert.equal(r.dir, join(good, 'ort-k'));
  assert.deepEqual(readdirSync(shared), [], 'nothing unpacked into a world-writable folder');
  assert.throws(() => extractOnce(candidates, 'ort', 'k', files), (e: Error) => {
    assert.match(e.message, /shared: writable by group or others/);
    assert.match(e.message, /link: not a folder \(symbolic links are not followed\)/);
    if (process.getuid?.() === 0) assert.match(e.message, /foreign: owned by another user \(uid 12345\)/);
    return true;
  });

  // A planted, "complete"-looking version inside an otherwise fine cache is redone, not trusted.
  const planted = join(good, 'ort-k2');
  mkdirSync(planted);
  writeFileSync(join(planted, 'x'), 'EVIL');
  writeFileSync(join(planted, '.complete'), 'k2');
  chmodSync(planted, 0o777);
  const again = extractOnce([good], 'ort', 'k2', files);
  assert.equal(again.created, true);
  assert.equal(readFileSync(join(again.dir, 'x'), 'utf8'), 'X');
});
