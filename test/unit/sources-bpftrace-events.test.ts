import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpftraceTranslator, argumentsOf, hostAbi, isoNs, tetragonExecId, unescapeRaw, type ProcInfo } from '../../src/sources/bpftrace/events.js';
import { FakeTime } from '../helpers/fake-time.js';
import { fixedClock } from '../../src/core/time.js';

interface Ev {
  process_exec?: { process: Record<string, unknown>; parent?: Record<string, unknown> };
  process_tracepoint?: { process: Record<string, unknown>; subsys: string; event: string; args: Array<{ syscall_id: { id: number; abi: string } }> };
  process_exit?: { process: Record<string, unknown>; signal?: string; status?: number };
  node_name: string;
  time: string;
}

function setup(procs: Record<number, ProcInfo> = {}) {
  const out: Ev[] = [];
  const other: string[] = [];
  const time = new FakeTime(Date.parse('2025-03-01T12:00:00Z'));
  const t = new BpftraceTranslator({
    node: 'edge1',
    sink: { line: (l) => out.push(JSON.parse(l) as Ev) },
    abi: 'arm64',
    clock: time,
    bootWallNs: BigInt(Date.parse('2025-03-01T00:00:00Z')) * 1_000_000n,
    proc: (pid) => procs[pid],
    realpath: (p) => (p === '/bin/sh' ? '/usr/bin/dash' : p),
    maxProcesses: 3,
    other: (l) => other.push(l),
  });
  return { t, out, other, time };
}

void test('exec, syscalls and exit of one process, in Tetragon shape with its exec id', () => {
  const { t, out } = setup({ 500: { binary: '/usr/bin/curl', arguments: '-s http://x', cwd: '/tmp' } });
  t.line('E 500 3600000000123 400 1000 1000 /usr/bin/curl');
  t.line('S 500 3600000000123 56');
  t.line('S 500 3600000000123 93');
  t.line('X 500 3600000000123 256');
  const id = tetragonExecId('edge1', '3600000000123', 500);
  assert.equal(Buffer.from(id, 'base64').toString(), 'edge1:3600000000123:500');
  const exec = out[0].process_exec;
  assert.ok(exec);
  assert.deepEqual(exec.process, {
    exec_id: id,
    pid: 500,
    uid: 1000,
    cwd: '/tmp',
    binary: '/usr/bin/curl',
    arguments: '-s http://x',
    flags: 'execve',
    start_time: '2025-03-01T01:00:00.000000123Z',
    parent_exec_id: tetragonExecId('edge1', '1000', 400),
    tid: 500,
  });
  assert.deepEqual(exec.parent, { exec_id: tetragonExecId('edge1', '1000', 400), pid: 400 });
  assert.equal(out[0].time, '2025-03-01T01:00:00.000000123Z');
  const sc = out[1].process_tracepoint;
  assert.ok(sc);
  assert.equal(sc.process.exec_id, id);
  assert.equal(sc.subsys, 'raw_syscalls');
  assert.equal(sc.event, 'sys_enter');
  assert.deepEqual(sc.args, [{ syscall_id: { id: 56, abi: 'arm64' } }]);
  assert.equal(out[1].node_name, 'edge1');
  assert.equal(out[1].time, '2025-03-01T12:00:00.000Z');
  assert.equal(out[2].process_tracepoint?.args[0].syscall_id.id, 93);
  assert.deepEqual(out[3].process_exit, { process: exec.process, status: 1 });
  assert.equal(t.size, 0);
});

void test('a process seen first by a syscall is announced from /proc; a known parent gets its binary', () => {
  const { t, out } = setup({ 77: { binary: '/usr/sbin/sshd', arguments: '-D' } });
  t.line('S 77 5000 7');
  t.line('S 77 5000 8');
  assert.equal(out.length, 3);
  assert.equal(out[0].process_exec?.process.flags, 'procFS');
  assert.equal(out[0].process_exec?.process.binary, '/usr/sbin/sshd');
  assert.equal(out[1].process_tracepoint?.process.exec_id, tetragonExecId('edge1', '5000', 77));
  // A child of it: the parent's binary is known.
  t.line('E 78 6000 77 5000 0 /bin/sh with space');
  assert.deepEqual(out[3].process_exec?.parent, { exec_id: tetragonExecId('edge1', '5000', 77), pid: 78 - 1, binary: '/usr/sbin/sshd' });
  assert.equal(out[3].process_exec?.process.binary, '/bin/sh with space');
  assert.equal(out[3].process_exec?.process.arguments, '', 'no /proc entry: no arguments');
});

void test('signals and exit status; unknown exits; other lines; the process memory is bounded', () => {
  const { t, out, other } = setup();
  t.line('X 9 100 9');
  assert.deepEqual(out[0].process_exit, { process: { exec_id: tetragonExecId('edge1', '100', 9), pid: 9 }, signal: 'SIGKILL' });
  t.line('Attaching 3 probes...');
  t.line('Lost 12 events');
  t.line('S x');
  assert.deepEqual(other, ['Attaching 3 probes...', 'Lost 12 events', 'S x']);
  for (let pid = 1; pid <= 5; pid++) t.line(`E ${pid} ${pid} 0 0 0 /bin/p${pid}`);
  assert.equal(t.size, 3);
});

void test('helpers: host ABI, nanosecond times', () => {
  assert.equal(hostAbi('x64'), 'x64');
  assert.equal(hostAbi('arm64'), 'arm64');
  assert.equal(hostAbi('arm'), 'arm32');
  assert.equal(isoNs(1_700_000_000_123_456_789n), '2023-11-14T22:13:20.123456789Z');
});

void test('arguments read in the kernel: %r escapes, argv[0] dropped, cut-short flag', () => {
  assert.deepEqual(argumentsOf('/bin/echo\\x00hello\\x00wor ld\\x00\\xc3\\xa9\\x00', 26), { arguments: 'hello wor ld é', complete: true });
  assert.deepEqual(argumentsOf('perl\\x00-e\\x00a\\b', 300), { arguments: '-e a\\b', complete: false });
  assert.equal(unescapeRaw('a\\x4').toString(), 'a\\x4', 'a broken escape stays as it is');
});

void test('an exec uses the kernel-read arguments, or /proc when those were cut short', () => {
  const lines: string[] = [];
  const proc = new Map<number, ProcInfo>([[11, { binary: '/usr/bin/long', arguments: 'all of the very long arguments' }]]);
  const t = new BpftraceTranslator({ node: 'n1', sink: { line: (l) => lines.push(l) }, clock: fixedClock(), bootWallNs: 0n, proc: (pid) => proc.get(pid) });
  t.line('A 10 500 15 /bin/short\\x00-v\\x00');
  t.line('E 10 500 1 1 0 /bin/short');
  t.line('A 11 600 999 /usr/bin/long\\x00all of\\x00');
  t.line('E 11 600 1 1 0 /usr/bin/long');
  const execs = lines.map((l) => JSON.parse(l) as { process_exec: { process: { binary: string; arguments: string } } }).map((e) => e.process_exec.process);
  assert.deepEqual(execs.map((p) => [p.binary, p.arguments]), [
    ['/bin/short', '-v'],
    ['/usr/bin/long', 'all of the very long arguments'],
  ]);
});

void test('a child forked without exec runs its parent\'s program, even when /proc no longer has it', () => {
  // /proc knows neither process: the child is gone before it could be read.
  const { t, out } = setup();
  t.line('E 700 5000 1 1 0 /usr/sbin/sshd');
  t.line('F 700 5000 701');
  t.line('S 701 6000 57');
  t.line('X 701 6000 0');
  const exec = out[1].process_exec;
  assert.ok(exec, 'the child is announced by a process_exec');
  assert.equal(exec.process.binary, '/usr/sbin/sshd');
  assert.equal(exec.process.flags, 'clone');
  assert.equal(exec.process.parent_exec_id, tetragonExecId('edge1', '5000', 700));
  assert.deepEqual(exec.parent, { exec_id: tetragonExecId('edge1', '5000', 700), pid: 700, binary: '/usr/sbin/sshd' });
  assert.equal(out[2].process_tracepoint?.process.binary, '/usr/sbin/sshd');
  assert.equal(out[3].process_exit?.process.exec_id, tetragonExecId('edge1', '6000', 701));
});

void test('without a fork line, a process first seen through a syscall is read from /proc', () => {
  const { t, out } = setup({ 702: { binary: '/usr/bin/python3', arguments: 'app.py' } });
  t.line('S 702 7000 0');
  assert.equal(out[0].process_exec?.process.binary, '/usr/bin/python3');
  assert.equal(out[0].process_exec?.process.flags, 'procFS');
  assert.equal(out[0].process_exec?.parent, undefined);
});

void test('an exec\'d path is reported with its symbolic links resolved, as Tetragon does', () => {
  const { t, out } = setup();
  t.line('E 710 8000 1 1 0 /bin/sh');
  assert.equal(out[0].process_exec?.process.binary, '/usr/bin/dash');
});
