import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createReplaySource } from '../../src/sources/replay.js';
import { createStdinSource } from '../../src/sources/stdin.js';
import { eventTimeMs, parseSpeed } from '../../src/sources/stream.js';
import { SourceError } from '../../src/sources/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { FakeTime, waitFor } from '../helpers/fake-time.js';

const ev = (i: number, time: string): string => `{"process_exec":{"process":{"pid":${i},"start_time":"2025-01-01T00:00:00Z"},"time":"1999-01-01T00:00:00Z"},"node_name":"n","time":"${time}"}`;
const recording = [ev(1, '2025-01-01T00:00:00.000000000Z'), ev(2, '2025-01-01T00:00:01.000000000Z'), ev(3, '2025-01-01T00:00:03.000000000Z')];

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'argos-replay-'));
}

function replay(file: string, speed: 'max' | number, time = new FakeTime(), stdin: Readable = new PassThrough()) {
  const lines: string[] = [];
  const src = createReplaySource({ file, stdin, sink: { line: (l) => lines.push(l) }, logger: silentLogger(), speed, clock: time, timers: time });
  return { lines, src, time };
}

void test('eventTimeMs reads the top-level time, not a nested one', () => {
  assert.equal(eventTimeMs(recording[1]), Date.parse('2025-01-01T00:00:01Z'));
  assert.equal(eventTimeMs('{"a":1}'), undefined);
  assert.equal(eventTimeMs('{"time":"garbage"}'), undefined);
  assert.equal(parseSpeed('recorded'), 1);
  assert.equal(parseSpeed('2.5'), 2.5);
  assert.equal(parseSpeed('max'), 'max');
  assert.throws(() => parseSpeed('0'), /positive factor/);
});

void test('max speed delivers a plain file and a gzip file whole', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const text = `${recording.join('\n')}\n`;
  writeFileSync(join(dir, 'a.jsonl'), text);
  writeFileSync(join(dir, 'a.jsonl.gz'), gzipSync(Buffer.from(text.trimEnd()))); // last line without newline
  for (const f of ['a.jsonl', 'a.jsonl.gz']) {
    const { lines, src } = replay(join(dir, f), 'max');
    await src.start();
    await src.done;
    assert.deepEqual(lines, recording, f);
    await src.stop();
  }
});

void test('a large gzip recording arrives complete and in order', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const many: string[] = [];
  for (let i = 0; i < 50_000; i++) many.push(ev(i, '2025-01-01T00:00:00Z'));
  writeFileSync(join(dir, 'big.gz'), gzipSync(Buffer.from(`${many.join('\n')}\n`)));
  const { lines, src } = replay(join(dir, 'big.gz'), 'max');
  await src.start();
  await src.done;
  assert.equal(lines.length, many.length);
  assert.equal(lines[49_999], many[49_999]);
});

void test('recorded speed paces lines by their time; a factor scales the pauses', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'r.jsonl'), `${recording.join('\n')}\n`);
  for (const [speed, gaps] of [
    [1, [1000, 2000]],
    [4, [250, 500]],
  ] as const) {
    const { lines, src, time } = replay(join(dir, 'r.jsonl'), speed);
    await src.start();
    await waitFor(() => lines.length === 1 && time.waiting.length === 1, 'the first line and a wait');
    assert.deepEqual(time.waiting, [gaps[0]]);
    time.advance(gaps[0] - 1);
    assert.equal(lines.length, 1, 'not before its time');
    time.advance(1);
    await waitFor(() => lines.length === 2 && time.waiting.length === 1, 'the second line');
    assert.deepEqual(time.waiting, [gaps[1]]);
    time.advance(gaps[1]);
    await src.done;
    assert.deepEqual(lines, recording);
  }
});

void test('stop() during a paced wait ends the source without delivering more', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'r.jsonl'), `${recording.join('\n')}\n`);
  const { lines, src, time } = replay(join(dir, 'r.jsonl'), 1);
  await src.start();
  await waitFor(() => time.waiting.length === 1, 'a wait');
  await src.stop();
  await src.stop();
  await src.done;
  assert.deepEqual(lines, [recording[0]]);
});

void test('- reads standard input, gzip or not', async () => {
  for (const gz of [false, true]) {
    const body = Buffer.from(`${recording.join('\r\n')}\r\n`);
    const stdin = Readable.from([gz ? gzipSync(body) : body]);
    const { lines, src } = replay('-', 'max', new FakeTime(), stdin);
    await src.start();
    await src.done;
    assert.deepEqual(lines, recording);
  }
});

void test('the stdin source delivers piped lines until the pipe closes', async () => {
  const stdin = new PassThrough();
  const lines: string[] = [];
  const time = new FakeTime();
  const src = createStdinSource({ stdin, sink: { line: (l) => lines.push(l) }, logger: silentLogger(), clock: time, timers: time });
  await src.start();
  stdin.write('{"a"');
  stdin.write(':1}\n{"b":2}');
  await waitFor(() => lines.length === 1, 'the first line');
  stdin.end('\n');
  await src.done;
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}']);
  await src.stop();
});

void test('a missing file or a directory is a clear error at start; a corrupt gzip fails done', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = replay(join(dir, 'nope.jsonl'), 'max');
  await assert.rejects(missing.src.start(), (e: unknown) => e instanceof SourceError && /does not exist/.test(e.message));
  await missing.src.stop();
  const isDir = replay(dir, 'max');
  await assert.rejects(isDir.src.start(), /is a directory/);
  writeFileSync(join(dir, 'bad.gz'), Buffer.concat([gzipSync(Buffer.from('x\n'.repeat(1000))).subarray(0, 30)]));
  const bad = replay(join(dir, 'bad.gz'), 'max');
  await bad.src.start();
  await assert.rejects(bad.src.done, /unexpected end of file/);
});
