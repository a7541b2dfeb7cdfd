// Real kernel events through the bpftrace source: a known program's syscalls arrive under
// its own exec id with the right names, between its exec and exit events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { BpftraceSource, findExecutable } from '../../src/sources/bpftrace.js';
import { hostAbi } from '../../src/sources/bpftrace/events.js';
import { syscallName } from '../../src/syscalls/index.js';
import { Counters } from '../../src/core/counters.js';
import { silentLogger } from '../../src/core/logger.js';
import { waitFor } from '../helpers/fake-time.js';
import { systemTimers, systemClock } from '../../src/core/time.js';

const skip =
  process.getuid?.() !== 0 ? 'needs root (bpftrace loads BPF programs)' : findExecutable('bpftrace') === undefined ? 'bpftrace is not installed (apt-get install bpftrace)' : findExecutable('perl') === undefined ? 'perl is not installed' : false;

interface Proc {
  exec_id: string;
  pid: number;
  binary?: string;
  arguments?: string;
}
interface Ev {
  process_exec?: { process: Proc };
  process_tracepoint?: { process: Proc; args: Array<{ syscall_id: { id: number; abi: string } }> };
  process_exit?: { process: Proc; status?: number };
}

void test('a perl loop of 500 getppid calls: exec, syscalls by name, exit, all under one exec id', { skip }, async () => {
  const watched = new Set<string>();
  const events: Ev[] = [];
  const src = new BpftraceSource({
    bin: 'bpftrace',
    node: hostname(),
    sink: {
      line: (l) => {
        for (const needle of watched) if (l.includes(needle)) events.push(JSON.parse(l) as Ev);
      },
    },
    logger: silentLogger(),
    counters: new Counters(),
    clock: systemClock,
    timers: systemTimers,
    readyTimeoutMs: 60_000,
    stopTimeoutMs: 5000,
    // Only what this test starts: the rest of the machine stays out, in the kernel.
    descendantsOf: process.pid,
  });
  try {
    await src.start();
    // Short-lived on purpose: its arguments are read in the kernel at exec, not from /proc.
    const child = spawn('/usr/bin/perl', ['-e', 'getppid() for 1..500; exit 3', 'é x'], { stdio: 'ignore' });
    const pid = child.pid;
    assert.ok(pid !== undefined);
    watched.add(`"pid":${pid},`);
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 3);
    await waitFor(() => events.some((e) => e.process_exit !== undefined), 'the exit event of perl', 30_000);

    // The image that ran to the end (a program may exec more than once under one pid).
    const exitId = events.find((e) => e.process_exit !== undefined)?.process_exit?.process.exec_id;
    const exec = events.find((e) => e.process_exec !== undefined && e.process_exec.process.exec_id === exitId)?.process_exec?.process;
    assert.ok(exec, 'an exec event for the exec id of the exit');
    assert.equal(exec.binary, '/usr/bin/perl');
    assert.equal(exec.arguments, '-e getppid() for 1..500; exit 3 é x');
    const [node, ktime, idPid] = Buffer.from(exec.exec_id, 'base64').toString().split(':');
    assert.deepEqual([node, idPid], [hostname(), String(pid)]);
    assert.match(ktime, /^\d+$/);

    const mine = events.filter((e) => e.process_tracepoint?.process.exec_id === exec.exec_id).flatMap((e) => (e.process_tracepoint ? [e.process_tracepoint.args[0].syscall_id] : []));
    assert.ok(mine.every((s) => s.abi === hostAbi()));
    const names = mine.map((s) => syscallName(hostAbi(), s.id));
    assert.ok(names.filter((n) => n === 'getppid').length >= 500, `500 getppid calls (got ${names.filter((n) => n === 'getppid').length})`);
    assert.equal(names.at(-1), 'exit_group');
    assert.ok(names.includes('brk') || names.includes('mmap'), 'the loader\'s calls are there too');
    assert.ok(!names.includes(undefined), 'every id has a name');

    const exit = events.find((e) => e.process_exit !== undefined)?.process_exit;
    assert.equal(exit?.process.exec_id, exec.exec_id);
    assert.equal(exit?.status, 3);
    // The exec comes before its syscalls, the exit after them.
    const at = (f: (e: Ev) => boolean): number[] => events.flatMap((e, i) => (f(e) ? [i] : []));
    const calls = at((e) => e.process_tracepoint?.process.exec_id === exec.exec_id);
    assert.ok(at((e) => e.process_exec?.process.exec_id === exec.exec_id)[0] < calls[0]);
    assert.ok(at((e) => e.process_exit !== undefined)[0] > calls[calls.length - 1]);
  } finally {
    await src.stop();
  }
  const bpftracePid = src.pid;
  if (bpftracePid !== undefined) assert.throws(() => process.kill(bpftracePid, 0), /ESRCH/, 'bpftrace is gone');
});
