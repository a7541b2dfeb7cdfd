import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataError, parseAbi, parseRecording, parseTraceText, readTraces, traceType } from '../../src/model/traces.js';

void test('attack type: first-level folder without a trailing _N', () => {
  assert.equal(traceType('/d/Attack', '/d/Attack/Hydra_FTP_10/UAD-Hydra-FTP-10-1.txt'), 'Hydra_FTP');
  assert.equal(traceType('/d/Attack', '/d/Attack/Web_Shell/x/y.txt'), 'Web_Shell');
  assert.equal(traceType('/d/Validation', '/d/Validation/UVD-0001.txt'), undefined);
});

void test('ABI names and aliases', () => {
  assert.equal(parseAbi('i386'), 'i386');
  assert.equal(parseAbi('x86_64'), 'x64');
  assert.equal(parseAbi('AArch64'), 'arm64');
  assert.throws(() => parseAbi('sparc'), (e: unknown) => e instanceof DataError && /unknown ABI "sparc"/.test(e.message));
});

void test('trace text: i386 numbers become normalised names; unknown numbers null; names pass through', () => {
  assert.deepEqual(parseTraceText('3 4\n192 195 9999\n', 'f', 'i386'), ['read', 'write', 'mmap', 'stat', null]);
  assert.deepEqual(parseTraceText(' read  fstat64\n', 'f', undefined), ['read', 'fstat']);
  assert.deepEqual(parseTraceText('\n', 'f', undefined), []);
});

void test('recordings: syscall_id with its ABI, long_arg with --abi, one trace per exec_id in order', () => {
  const tp = (exec: string, arg: object): string => JSON.stringify({ process_tracepoint: { process: { exec_id: exec, pid: 7 }, subsys: 'raw_syscalls', event: 'sys_enter', args: [arg] } });
  const text = [
    tp('B', { syscall_id: { id: 0, abi: 'x64' } }),
    tp('A', { syscall_id: { id: 3, abi: 'i386' } }),
    JSON.stringify({ process_exit: { process: { exec_id: 'A' } } }),
    tp('B', { long_arg: '63' }),
    JSON.stringify({ process_tracepoint: { process: { exec_id: 'B' }, subsys: 'syscalls', event: 'other' } }),
    '',
  ].join('\n');
  const traces = parseRecording(text, 'rec.jsonl', 'arm64');
  assert.deepEqual(traces.map((t) => [t.source, t.calls]), [['rec.jsonl#B', ['read', 'read']], ['rec.jsonl#A', ['read']]]);
  assert.throws(() => parseRecording(text, 'rec.jsonl', undefined), /plain numbers; say which ABI .* --abi/);
  assert.throws(() => parseRecording('\n\n', 'e.jsonl', 'x64'), /holds no events/);
});

void test('readTraces reads folders recursively and gzip recordings; types come from folders', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-traces-'));
  try {
    const line = JSON.stringify({ process_tracepoint: { process: { exec_id: 'Z' }, subsys: 'raw_syscalls', event: 'sys_enter', args: [{ syscall_id: { id: 1, abi: 'x64' } }] } });
    writeFileSync(join(dir, 'top.txt'), 'read write');
    mkdirSync(join(dir, 'Kind_3'));
    writeFileSync(join(dir, 'Kind_3', 'r.jsonl.gz'), gzipSync(`${line}\n${line}\n`));
    const set = await readTraces(dir);
    assert.deepEqual(
      set.traces.map((t) => [t.type, t.calls]),
      [
        ['Kind', ['write', 'write']],
        [undefined, ['read', 'write']],
      ],
    );
    assert.equal(set.files.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
