import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter } from '../../src/sources/lines.js';

function collect(maxLine?: number): { lines: string[]; oversize: number[]; s: LineSplitter } {
  const lines: string[] = [];
  const oversize: number[] = [];
  const s = new LineSplitter({ line: (l) => lines.push(l) }, { maxLine, onOversize: (n) => oversize.push(n) });
  return { lines, oversize, s };
}

void test('whole lines in one chunk, in order, without newlines; empty lines skipped', () => {
  const { lines, s } = collect();
  s.push(Buffer.from('a\nbb\n\nccc\n'));
  assert.deepEqual(lines, ['a', 'bb', 'ccc']);
  assert.equal(s.buffered, 0);
});

void test('CRLF endings are stripped, a lone CR inside a line is kept', () => {
  const { lines, s } = collect();
  s.push(Buffer.from('one\r\ntw\ro\r\n'));
  assert.deepEqual(lines, ['one', 'tw\ro']);
});

void test('a line split across many chunks (even byte by byte, CR and LF apart) arrives whole', () => {
  const { lines, s } = collect();
  const text = '{"a":1}\r\n{"b":"\u00e9\u4e2d"}\n';
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i++) s.push(bytes.subarray(i, i + 1));
  assert.deepEqual(lines, ['{"a":1}', '{"b":"\u00e9\u4e2d"}']);
});

void test('the splitter copies a held-back fragment, so the caller may reuse its buffer', () => {
  const { lines, s } = collect();
  const buf = Buffer.alloc(8);
  buf.write('abcd');
  s.push(buf, 0, 4);
  buf.fill(0x7a); // overwritten by the next read
  buf.write('ef\n');
  s.push(buf, 0, 3);
  assert.deepEqual(lines, ['abcdef']);
});

void test('a final line without newline is delivered at end()', () => {
  const { lines, s } = collect();
  s.push(Buffer.from('x\nlast'));
  assert.deepEqual(lines, ['x']);
  s.end();
  assert.deepEqual(lines, ['x', 'last']);
  s.end();
  assert.deepEqual(lines, ['x', 'last']);
});

void test('lines longer than the cap are skipped and reported, in one chunk and across chunks', () => {
  const { lines, oversize, s } = collect(10);
  s.push(Buffer.from('short\n0123456789\n0123456789X\nok\n'));
  assert.deepEqual(lines, ['short', '0123456789', 'ok']);
  assert.deepEqual(oversize, [11]);
  const long = 'y'.repeat(35);
  s.push(Buffer.from(long.slice(0, 7)));
  s.push(Buffer.from(long.slice(7, 20)));
  assert.ok(s.buffered <= 20);
  s.push(Buffer.from(`${long.slice(20)}\nafter\n`));
  assert.deepEqual(lines, ['short', '0123456789', 'ok', 'after']);
  assert.deepEqual(oversize, [11, 35]);
});

void test('a line of exactly the cap split before its CRLF is kept', () => {
  const { lines, oversize, s } = collect(4);
  s.push(Buffer.from('abcd\r'));
  s.push(Buffer.from('\nabcde'));
  s.end();
  assert.deepEqual(lines, ['abcd']);
  assert.deepEqual(oversize, [5]);
});

void test('discard() drops an unfinished line', () => {
  const { lines, s } = collect();
  s.push(Buffer.from('partial'));
  assert.equal(s.discard(), 7);
  s.push(Buffer.from('new\n'));
  assert.deepEqual(lines, ['new']);
});

void test('random chunking never changes the lines', () => {
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const want: string[] = [];
  for (let i = 0; i < 500; i++) want.push(`{"i":${i},"pad":"${'p'.repeat(Math.floor(rnd() * 300))}"}`);
  const bytes = Buffer.from(want.map((l, i) => (i % 3 === 0 ? `${l}\r\n` : `${l}\n`)).join(''));
  const { lines, s } = collect();
  for (let at = 0; at < bytes.length; ) {
    const n = 1 + Math.floor(rnd() * 700);
    s.push(bytes, at, Math.min(bytes.length, at + n));
    at += n;
  }
  s.end();
  assert.deepEqual(lines, want);
});
