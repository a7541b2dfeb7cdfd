import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSources, parseArmHeader, parseTsv, readSources, renderTables, TABLES_FILE } from '../../build/gen-syscalls.js';
import {
  formatMapping,
  MappingError,
  normaliseName,
  NOT_A_SYSCALL,
  parseMapping,
  readMapping,
  syscallName,
  Tokenizer,
  TWIN_OF,
  UNKNOWN_TOKEN,
  NAMES_BY_NUMBER,
} from '../../src/syscalls/index.js';

void test('the generated tables are up to date with their sources', (t) => {
  const src = defaultSources();
  if (!existsSync(join(src.tsvDir, 'x86_64.tsv')) || !existsSync(src.arm32Header)) {
    t.skip(`sources not present here (${src.tsvDir}, ${src.arm32Header})`);
    return;
  }
  const expected = renderTables(readSources(src));
  assert.ok(readFileSync(TABLES_FILE, 'utf8') === expected, 'src/syscalls/tables.ts is stale: run npm run gen:syscalls');
});

void test('known numbers per ABI', () => {
  // Numbers from the kernel tables (syscall_64.tbl, syscall_32.tbl, generic, ARM EABI).
  const cases: [Parameters<typeof syscallName>[0], number, string][] = [
    ['x64', 0, 'read'],
    ['x64', 1, 'write'],
    ['x64', 257, 'openat'],
    ['x64', 59, 'execve'],
    ['i386', 3, 'read'],
    ['i386', 295, 'openat'],
    ['i386', 11, 'execve'],
    ['i386', 195, 'stat64'],
    ['i386', 192, 'mmap2'],
    ['i386', 102, 'socketcall'],
    ['arm64', 63, 'read'],
    ['arm64', 56, 'openat'],
    ['arm64', 221, 'execve'],
    ['arm32', 3, 'read'],
    ['arm32', 322, 'openat'],
    ['arm32', 192, 'mmap2'],
  ];
  for (const [abi, id, name] of cases) assert.equal(syscallName(abi, id), name, `${abi} ${id}`);
  assert.equal(syscallName('x64', 2), 'open');
  assert.equal(syscallName('arm64', 42), undefined, 'a hole in the generic table');
  assert.ok(!NAMES_BY_NUMBER.arm64.includes('open'), 'arm64 has no open');
  assert.equal(syscallName('x64', -1), undefined);
  assert.equal(syscallName('x64', 1.5), undefined);
  assert.equal(syscallName('x64', 100_000), undefined);
});

void test('generator parsers reject malformed sources with the line number', () => {
  assert.deepEqual([...parseTsv('read\t0\nopen\nwrite\t1\n', 't.tsv')], [[0, 'read'], [1, 'write']]);
  assert.throws(() => parseTsv('read\t0\nbad line\n', 't.tsv'), /t\.tsv:2/);
  assert.throws(() => parseTsv('read\t0\nwrite\t0\n', 't.tsv'), /t\.tsv:2: number 0 is both read and write/);
  assert.throws(() => parseArmHeader('#define __NR_read (__NR_SYSCALL_BASE + 3)\n', 'h.h'), /only 1 syscalls/);
});

void test('32-bit names normalise to their 64-bit twins, others stay', () => {
  const pairs: [string, string][] = [
    ['stat64', 'stat'],
    ['mmap2', 'mmap'],
    ['fstat64', 'fstat'],
    ['lstat64', 'lstat'],
    ['fcntl64', 'fcntl'],
    ['_llseek', 'lseek'],
    ['getuid32', 'getuid'],
    ['setresgid32', 'setresgid'],
    ['clock_gettime64', 'clock_gettime'],
    ['futex_time64', 'futex'],
    ['ugetrlimit', 'getrlimit'],
  ];
  for (const [from, to] of pairs) assert.equal(normaliseName(from), to);
  for (const same of ['read', 'socketcall', 'ipc', 'oldstat', 'getdents', 'select', 'stat', 'pread64', 'prlimit64']) {
    assert.equal(normaliseName(same), same);
  }
  // Every source is a real syscall name of some ABI and every twin a real x64 or arm64 name.
  const all = new Set<string>();
  for (const names of Object.values(NAMES_BY_NUMBER)) for (const n of names) if (n) all.add(n);
  const native = new Set([...NAMES_BY_NUMBER.x64, ...NAMES_BY_NUMBER.arm64].filter((n): n is string => n !== undefined));
  for (const [from, to] of TWIN_OF) {
    assert.ok(all.has(from) || from === 'sync_file_range2', `${from} is a syscall`);
    assert.ok(native.has(to), `${to} is a 64-bit syscall`);
  }
});

void test('mapping parse/format round trip and clear errors', () => {
  const m = parseMapping('read,2\r\nwrite,3\n\nopenat , 4\n');
  assert.deepEqual([...m], [['read', 2], ['write', 3], ['openat', 4]]);
  assert.equal(formatMapping(new Map([['write', 3], ['read', 2], ['b', 5], ['a', 5]])), 'read,2\nwrite,3\na,5\nb,5\n');
  assert.deepEqual(parseMapping(formatMapping(m)), m);
  assert.throws(() => parseMapping('read,2\nname,id\n', 'x.csv'), (e: unknown) => e instanceof MappingError && /x\.csv:2: expected "name,id"/.test(e.message));
  assert.throws(() => parseMapping('read,2\nwrite\n', 'x.csv'), /x\.csv:2/);
  assert.throws(() => parseMapping('read,2\nwrite,-3\n', 'x.csv'), /x\.csv:2/);
  assert.throws(() => parseMapping('read,1\n', 'x.csv'), /x\.csv:1: id 1 of "read" is out of range; ids start at 2/);
  assert.throws(() => parseMapping('read,2\nwrite,3\nread,4\n', 'x.csv'), /x\.csv:3: "read" is mapped twice \(first on line 1\)/);
  assert.throws(() => parseMapping('\n\n', 'x.csv'), /empty/);
});

void test('readMapping reads a file and names it in errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-map-'));
  try {
    const p = join(dir, 'syscalls.csv');
    writeFileSync(p, 'read,2\nwrite,3\n');
    assert.deepEqual([...readMapping(p)], [['read', 2], ['write', 3]]);
    assert.throws(() => readMapping(join(dir, 'missing.csv')), /missing\.csv: cannot read the syscall mapping \(ENOENT\)/);
    writeFileSync(p, 'read;2\n');
    assert.throws(() => readMapping(p), new RegExp(`${p.replace(/[.]/g, '\\.')}:1`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('tokenizer: tokens per ABI, unknowns, vocabulary', () => {
  const tok = Tokenizer.fromMapping(new Map([['read', 2], ['write', 3], ['openat', 4], ['stat', 5], ['mmap', 9]]));
  assert.equal(tok.vocabulary, 10);
  assert.equal(tok.token('x64', 0), 2);
  assert.equal(tok.token('i386', 3), 2);
  assert.equal(tok.token('arm64', 63), 2);
  assert.equal(tok.token('arm32', 3), 2);
  assert.equal(tok.token('x64', 257), 4);
  assert.equal(tok.token('arm64', 56), 4);
  assert.equal(tok.token('i386', 195), 5, 'i386 stat64 reads as stat');
  assert.equal(tok.token('i386', 192), 9, 'i386 mmap2 reads as mmap');
  assert.equal(tok.token('x64', 59), UNKNOWN_TOKEN, 'execve is not in the mapping');
  assert.equal(tok.lookup('x64', 59), UNKNOWN_TOKEN);
  assert.equal(tok.token('x64', 9999), UNKNOWN_TOKEN);
  assert.equal(tok.lookup('x64', 9999), NOT_A_SYSCALL);
  assert.equal(tok.lookup('x64', -5), NOT_A_SYSCALL);
  assert.equal(tok.lookup('arm64', 42), NOT_A_SYSCALL, 'a hole in the generic table');
  assert.equal(tok.token('arm64', 42), UNKNOWN_TOKEN);
});

void test('tokenizer: names, twins in both directions, exact entries win', () => {
  const x64Model = Tokenizer.fromMapping(new Map([['stat', 2], ['mmap', 3], ['lseek', 4]]));
  assert.equal(x64Model.tokenOfName('stat64'), 2);
  assert.equal(x64Model.tokenOfName('_llseek'), 4);
  assert.equal(x64Model.tokenOfName('nope'), UNKNOWN_TOKEN);
  const i386Model = Tokenizer.fromMapping(new Map([['stat64', 2], ['mmap2', 3]]));
  assert.equal(i386Model.tokenOfName('stat'), 2, 'an i386-trained model reads x64 stat as stat64');
  assert.equal(i386Model.token('x64', 9), 3, 'x64 mmap → mmap2');
  assert.equal(i386Model.token('i386', 195), 2);
  const both = Tokenizer.fromMapping(new Map([['stat64', 2], ['stat', 3]]));
  assert.equal(both.tokenOfName('stat64'), 2, 'a model that knows both keeps them apart');
  assert.equal(both.tokenOfName('stat'), 3);
  assert.equal(both.tokenOfName('lstat64'), UNKNOWN_TOKEN);
  assert.throws(() => Tokenizer.fromMapping(new Map([['read', 0]])), /ids start at 2/);
  assert.equal(Tokenizer.fromMapping(new Map()).vocabulary, 2);
});
