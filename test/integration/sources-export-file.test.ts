import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportFileSource, type ExportFs } from '../../src/sources/export-file.js';
import { open as openFile, readdir, stat, type FileHandle } from 'node:fs/promises';
import { Counters } from '../../src/core/counters.js';
import { silentLogger } from '../../src/core/logger.js';
import { FakeTime, waitFor } from '../helpers/fake-time.js';
import { systemTimers } from '../../src/core/time.js';

function setup(t: { after(fn: () => Promise<void>): void }, opts: { from?: 'end' | 'start'; watch?: boolean; real?: boolean; pollMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'argos-tail-'));
  const path = join(dir, 'tetragon.log');
  const lines: string[] = [];
  const time = new FakeTime();
  const src = new ExportFileSource({
    path,
    sink: { line: (l) => lines.push(l) },
    logger: silentLogger(),
    counters: new Counters(),
    timers: opts.real ? systemTimers : time,
    from: opts.from,
    watch: opts.watch ?? false,
    pollMs: opts.pollMs,
  });
  t.after(async () => {
    await src.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  /** One poll, then wait for the given number of lines. */
  const poll = async (want: number): Promise<void> => {
    time.advance(250);
    await waitFor(() => lines.length >= want, `${want} lines (have ${lines.length})`);
  };
  return { dir, path, lines, src, time, poll };
}

void test('a file present at start is followed from its end by default', async (t) => {
  const { path, lines, src, poll } = setup(t);
  writeFileSync(path, 'old1\nold2\n');
  await src.start();
  appendFileSync(path, 'new1\nnew2\n');
  await poll(2);
  assert.deepEqual(lines, ['new1', 'new2']);
  await src.stop();
  await src.done;
});

void test("from: 'start' reads what is already there", async (t) => {
  const { path, lines, src, poll } = setup(t, { from: 'start' });
  writeFileSync(path, 'old1\nold2\n');
  await src.start();
  assert.deepEqual(lines, ['old1', 'old2']);
  appendFileSync(path, 'new\n');
  await poll(3);
  assert.deepEqual(lines, ['old1', 'old2', 'new']);
  await src.stop();
});

void test('a file that appears later is read from its start; a line split across writes arrives whole', async (t) => {
  const { path, lines, src, poll, time } = setup(t);
  await src.start();
  time.advance(1000);
  writeFileSync(path, 'a\n{"half":');
  await poll(1);
  appendFileSync(path, '1}\n');
  await poll(2);
  assert.deepEqual(lines, ['a', '{"half":1}']);
  await src.stop();
});

void test('rotation: the old file is finished (even what was written after the rename), then the new one, nothing twice', async (t) => {
  const { path, lines, src, poll } = setup(t);
  writeFileSync(path, '');
  await src.start();
  appendFileSync(path, 'l1\nl2\n');
  await poll(2);
  // The writer renames, still holds the old file and writes a last line to it, then opens a new file.
  const fd = openSync(path, 'a');
  renameSync(path, `${path}-2025.log`);
  writeSync(fd, 'l3\nl4');
  writeSync(fd, '\n');
  closeSync(fd);
  writeFileSync(path, 'l5\nl6\n');
  await poll(6);
  appendFileSync(path, 'l7\n');
  await poll(7);
  assert.deepEqual(lines, ['l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7']);
  await src.stop();
});

void test('deletion then a new file: the new file is read from its start', async (t) => {
  const { path, lines, src, poll, time } = setup(t);
  writeFileSync(path, '');
  await src.start();
  appendFileSync(path, 'a\n');
  await poll(1);
  unlinkSync(path);
  time.advance(250);
  time.advance(250);
  writeFileSync(path, 'b\n');
  await poll(2);
  assert.deepEqual(lines, ['a', 'b']);
  await src.stop();
});

void test('truncation: reading starts again from 0', async (t) => {
  const { path, lines, src, poll } = setup(t);
  writeFileSync(path, '');
  await src.start();
  appendFileSync(path, 'first-long-line-1\nfirst-long-line-2\n');
  await poll(2);
  truncateSync(path, 0);
  appendFileSync(path, 'x\n');
  await poll(3);
  assert.deepEqual(lines, ['first-long-line-1', 'first-long-line-2', 'x']);
  assert.equal(src.position, 2);
  await src.stop();
});

void test('fs.watch alone (poll far away) notices appends and a rotation', async (t) => {
  const { path, lines, src } = setup(t, { watch: true, real: true, pollMs: 3_600_000 });
  writeFileSync(path, '');
  await src.start();
  appendFileSync(path, 'w1\n');
  await waitFor(() => lines.length === 1, 'the watched append');
  renameSync(path, `${path}.1`);
  writeFileSync(path, 'w2\n');
  await waitFor(() => lines.length === 2, 'the line in the new file');
  assert.deepEqual(lines, ['w1', 'w2']);
  await src.stop();
});

void test('a writer rotating every few lines while the tail runs: every line exactly once, in order', async (t) => {
  const { path, lines, src } = setup(t, { watch: true, real: true, pollMs: 20 });
  writeFileSync(path, '');
  await src.start();
  const total = 3000;
  let fd = openSync(path, 'a');
  for (let n = 0; n < total; ) {
    writeSync(fd, `{"n":${n++}}\n`);
    if (n % 250 === 0 && n < total) {
      renameSync(path, `${path}-${n}.log`);
      // One more line into the renamed file, as a writer may do before it reopens.
      writeSync(fd, `{"n":${n++}}\n`);
      closeSync(fd);
      fd = openSync(path, 'a');
    }
    if (n % 100 === 0) await new Promise((r) => setImmediate(r));
  }
  closeSync(fd);
  await waitFor(() => lines.length >= total, `all ${total} lines (have ${lines.length})`);
  await src.stop();
  assert.equal(lines.length, total);
  for (let i = 0; i < total; i++) assert.equal(lines[i], `{"n":${i}}`);
});

void test('a skipped backup that fails to read: no file handle leaks, the source keeps following the new file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-tail-fail-'));
  const path = join(dir, 'tetragon.log');
  const lines: string[] = [];
  const time = new FakeTime();
  const open = new Set<FileHandle>();
  let opened = 0;
  const fs: ExportFs = {
    readdir: (p) => readdir(p),
    stat,
    async open(p, flags) {
      const h = await openFile(p, flags);
      opened++;
      open.add(h);
      const close = h.close.bind(h);
      h.close = async () => {
        open.delete(h);
        await close();
      };
      // The backup rotated away unseen cannot be read (a disk error, say).
      if (p.endsWith('.log.2')) h.read = (() => Promise.reject(new Error('EIO: i/o error, read'))) as FileHandle['read'];
      return h;
    },
  };
  const src = new ExportFileSource({ path, sink: { line: (l) => lines.push(l) }, logger: silentLogger(), counters: new Counters(), timers: time, from: 'start', watch: false, fs });
  t.after(async () => {
    await src.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(path, 'l1\n');
  await src.start();
  assert.deepEqual(lines, ['l1']);
  // Two rotations between two polls: l2 stays in the file we hold, l3 in a backup we never saw.
  appendFileSync(path, 'l2\n');
  renameSync(path, `${path}.1`);
  writeFileSync(path, 'l3\n');
  renameSync(path, `${path}.2`);
  writeFileSync(path, 'l4\n');
  for (let i = 0; i < 5 && !lines.includes('l4'); i++) {
    time.advance(250);
    await waitFor(() => time.waiting.length > 0 && !src['running'], 'the poll to finish');
  }
  assert.deepEqual(lines, ['l1', 'l2', 'l4'], 'the unreadable backup is skipped, the rest is read once');
  appendFileSync(path, 'l5\n');
  time.advance(250);
  await waitFor(() => lines.length === 4, 'l5');
  assert.equal(lines[3], 'l5');
  await src.stop();
  assert.ok(opened >= 3);
  assert.equal(open.size, 0, 'every handle opened was closed');
});
