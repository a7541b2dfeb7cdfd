// Training data larger than one JavaScript string can hold (0x1fffffe8 characters, about
// 512 MB) is read as a stream, and a Tetragon export rotated into several files is one stream
// in time order, so a process that spans two files stays one trace.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readTraces } from '../../src/model/traces.js';

const dir = mkdtempSync(join(tmpdir(), 'argos-large-input-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function exec(id: string, binary: string, args = ''): string {
  return JSON.stringify({ process_exec: { process: { exec_id: id, pid: 7, binary, arguments: args } }, time: '2025-01-01T00:00:00Z' });
}

function call(id: string, syscall: number): string {
  return JSON.stringify({ process_tracepoint: { process: { exec_id: id, pid: 7, binary: '/usr/bin/worker' }, subsys: 'raw_syscalls', event: 'sys_enter', args: [{ syscall_id: { id: syscall, abi: 'x64' } }] }, time: '2025-01-01T00:00:00Z' });
}

void test('a recording over 512 MB is read as a stream: every process and call, no string-length failure', async () => {
  const file = join(dir, 'big.jsonl');
  const fd = openSync(file, 'w');
  // Exec events with long argument lists make up the bulk; each process makes a few calls.
  const padding = 'x'.repeat(60_000);
  const processes = 9_500;
  for (let i = 0; i < processes; i++) {
    const id = `big-${i}`;
    writeSync(fd, `${exec(id, `/usr/bin/job${i % 7}`, padding)}\n${call(id, 0)}\n${call(id, 1)}\n${call(id, 3)}\n`);
  }
  closeSync(fd);
  assert.ok(statSync(file).size > 0x1fffffe8, `the file (${statSync(file).size} bytes) is larger than a string can be`);
  const set = await readTraces(file);
  assert.equal(set.traces.length, processes);
  assert.deepEqual(set.traces[0]?.calls, ['read', 'write', 'close']);
  assert.equal(set.traces[processes - 1]?.program, '/usr/bin/job' + String((processes - 1) % 7));
  rmSync(file);
});

void test('a rotated Tetragon export is one stream, oldest file first: a process spanning two files is one trace', async () => {
  const exportDir = join(dir, 'export');
  mkdirSync(exportDir);
  // tetragon.log.2.gz is the oldest, tetragon.log the file being written.
  writeFileSync(join(exportDir, 'tetragon.log.2.gz'), gzipSync(`${exec('a', '/usr/sbin/sshd')}\n${call('a', 0)}\n`));
  writeFileSync(join(exportDir, 'tetragon.log.1'), `${call('a', 1)}\n${exec('b', '/usr/bin/cron')}\n${call('b', 257)}\n`);
  writeFileSync(join(exportDir, 'tetragon.log'), `${call('a', 3)}\n${call('b', 3)}\n`);
  const set = await readTraces(exportDir);
  assert.deepEqual(
    set.traces.map((t) => [t.execId, t.program, t.calls.join(' ')]),
    [
      ['a', '/usr/sbin/sshd', 'read write close'],
      ['b', '/usr/bin/cron', 'openat close'],
    ],
  );
});
