import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tracker, windowsOfTrace, type TrackerOptions } from '../../src/tracker/index.js';
import { Counters } from '../../src/core/counters.js';
import { silentLogger } from '../../src/core/logger.js';
import { textLine } from '../../src/parser/index.js';
import { NO_LINE } from '../../src/core/types.js';
import type { ProcessInfo, SyscallWindow } from '../../src/core/types.js';
import { FakeTime } from '../helpers/fake-time.js';

function setup(over: Partial<TrackerOptions> = {}) {
  const windows: SyscallWindow[] = [];
  const counters = new Counters();
  let now = 1000;
  const tracker = new Tracker({
    window: 4,
    delta: 2,
    minWindow: 2,
    maxProcesses: 100,
    sink: { window: (w) => windows.push(w) },
    counters,
    clock: { now: () => now++, monotonic: () => 0 },
    log: silentLogger(),
    initialCapacity: 1,
    ...over,
  });
  return { tracker, windows, counters };
}

const info = (execId: string, pid = 1): ProcessInfo => ({ execId, pid, binary: `/bin/${execId}`, arguments: '' });
const arr = (w: SyscallWindow) => [...w.tokens];

void test('first window when full, then every delta calls, in call order', () => {
  const { tracker, windows, counters } = setup();
  tracker.exec(info('a'));
  for (let t = 10; t < 13; t++) tracker.syscall('a', t, NO_LINE);
  assert.equal(windows.length, 0, 'not full yet');
  tracker.syscall('a', 13, NO_LINE);
  assert.deepEqual(windows.map(arr), [[10, 11, 12, 13]]);
  tracker.syscall('a', 14, NO_LINE);
  assert.equal(windows.length, 1, 'one new call is less than delta');
  tracker.syscall('a', 15, NO_LINE);
  assert.deepEqual(windows.map(arr), [[10, 11, 12, 13], [12, 13, 14, 15]]);
  for (let t = 16; t < 20; t++) tracker.syscall('a', t, NO_LINE);
  assert.deepEqual(windows.map(arr).slice(2), [[14, 15, 16, 17], [16, 17, 18, 19]]);
  assert.deepEqual(windows.map((w) => w.seq), [0, 1, 2, 3]);
  assert.ok(windows.every((w) => !w.final && w.process.binary === '/bin/a' && w.tokens instanceof Int32Array));
  assert.ok(windows[1].at > windows[0].at, 'injected clock stamps windows');
  // Windows are fresh copies: later calls do not change them.
  assert.deepEqual(arr(windows[0]), [10, 11, 12, 13]);
  assert.equal(counters.windows, 4);
  assert.equal(counters.processes, 1);
  assert.equal(counters.execs, 1);
});

void test('exit: partial window at or above minWindow, none below', () => {
  const { tracker, windows, counters } = setup({ minWindow: 3 });
  tracker.exec(info('short'));
  tracker.syscall('short', 5, NO_LINE);
  tracker.syscall('short', 6, NO_LINE);
  tracker.exit('short');
  assert.equal(windows.length, 0, 'two calls < minWindow 3');
  tracker.exec(info('partial'));
  for (const t of [7, 8, 9]) tracker.syscall('partial', t, NO_LINE);
  tracker.exit('partial');
  assert.deepEqual(windows.map(arr), [[7, 8, 9]]);
  assert.equal(windows[0].final, true);
  assert.equal(tracker.size, 0, 'exited processes are freed');
  assert.equal(counters.exits, 2);
});

void test('exit: last window only when calls arrived since the last one', () => {
  const { tracker, windows } = setup();
  tracker.exec(info('a'));
  for (let t = 1; t <= 6; t++) tracker.syscall('a', t, NO_LINE); // windows at 4 and 6
  tracker.exit('a');
  assert.equal(windows.length, 2, 'nothing new since the window at call 6');
  tracker.exec(info('b'));
  for (let t = 1; t <= 7; t++) tracker.syscall('b', t, NO_LINE);
  tracker.exit('b');
  assert.deepEqual(windows.slice(2).map(arr), [[1, 2, 3, 4], [3, 4, 5, 6], [4, 5, 6, 7]]);
  assert.deepEqual(windows.slice(2).map((w) => w.final), [false, false, true]);
  tracker.exit('unknown-key'); // no crash, nothing emitted
  assert.equal(windows.length, 5);
});

void test('pid reuse: same pid, different exec ids are separate processes', () => {
  const { tracker, windows } = setup({ window: 3, delta: 3, minWindow: 1 });
  tracker.exec(info('exec-1', 42));
  tracker.syscall('exec-1', 1, NO_LINE);
  tracker.syscall('exec-1', 1, NO_LINE);
  tracker.exit('exec-1');
  tracker.exec(info('exec-2', 42));
  tracker.syscall('exec-2', 2, NO_LINE);
  tracker.exit('exec-2');
  assert.deepEqual(windows.map(arr), [[1, 1], [2]]);
  assert.deepEqual(windows.map((w) => w.process.execId), ['exec-1', 'exec-2']);
  assert.deepEqual(windows.map((w) => w.seq), [0, 0]);
});

void test('a process first seen through a syscall gets its info from the line once', () => {
  const { tracker, windows } = setup({ window: 2, delta: 1 });
  const line = JSON.stringify({ process_tracepoint: { process: { exec_id: 'eA==', pid: 77, binary: '/usr/bin/curl', arguments: '-s x', pod: { namespace: 'ns', name: 'p', container: { name: 'c', image: { name: 'img:1' } } } } }, time: 't' });
  tracker.syscall('eA==', 3, textLine(line));
  tracker.syscall('eA==', 4, textLine('not json: only the first line is read'));
  assert.equal(windows.length, 1);
  assert.deepEqual(windows[0].process, { execId: 'eA==', pid: 77, binary: '/usr/bin/curl', arguments: '-s x', pod: { namespace: 'ns', name: 'p', container: 'c', image: 'img:1' } });
  tracker.syscall('pid:9', 1, textLine('garbage'));
  tracker.syscall('pid:9', 1, textLine('garbage'));
  assert.deepEqual(windows[1].process, { execId: 'pid:9', pid: 9, binary: '', arguments: '' });
});

void test('exec for a known key updates its info', () => {
  const { tracker, windows } = setup({ window: 2, delta: 2 });
  tracker.syscall('k', 1, NO_LINE);
  tracker.exec({ ...info('k'), binary: '/bin/new' });
  tracker.syscall('k', 2, NO_LINE);
  assert.equal(windows[0].process.binary, '/bin/new');
  assert.equal(tracker.size, 1);
});

void test('least recently seen process is evicted beyond maxProcesses', () => {
  const { tracker, windows, counters } = setup({ maxProcesses: 3, window: 2, delta: 1, minWindow: 1 });
  for (const k of ['a', 'b', 'c']) tracker.syscall(k, 1, NO_LINE);
  tracker.syscall('a', 2, NO_LINE); // a is now most recent: order b, c, a
  assert.equal(windows.length, 1);
  tracker.syscall('d', 1, NO_LINE); // evicts b
  assert.equal(counters.evicted, 1);
  assert.equal(tracker.size, 3);
  tracker.syscall('c', 2, NO_LINE); // c kept its history
  assert.deepEqual(arr(windows[1]), [1, 2]);
  tracker.syscall('b', 5, NO_LINE); // b comes back as a new process (evicts a, the least recent)
  assert.equal(counters.evicted, 2);
  assert.equal(counters.processes, 5);
  tracker.exit('b');
  assert.deepEqual(arr(windows[2]), [5], 'b starts over: its old calls are gone');
  tracker.exit('a');
  assert.equal(windows.length, 3, 'a was evicted, its exit emits nothing');
});

void test('ring grows on demand up to the window and wraps correctly', () => {
  const { tracker, windows } = setup({ window: 100, delta: 7, minWindow: 1, initialCapacity: 1 });
  const seq = Array.from({ length: 1000 }, (_, i) => (i * 37) % 60000);
  for (const t of seq) tracker.syscall('p', t, NO_LINE);
  tracker.exit('p');
  // Windows end at calls 100, 107, ..., then a final one ending at call 1000.
  const ends = [...Array.from({ length: Math.floor((1000 - 100) / 7) + 1 }, (_, i) => 100 + 7 * i)];
  if (ends[ends.length - 1] !== 1000) ends.push(1000);
  assert.equal(windows.length, ends.length);
  windows.forEach((w, i) => assert.deepEqual(arr(w), seq.slice(ends[i] - 100, ends[i]), `window ${i}`));
  assert.equal(windows[windows.length - 1].final, true);
});

void test('flush cuts final windows of live processes', () => {
  const { tracker, windows } = setup({ window: 4, delta: 4, minWindow: 1 });
  tracker.syscall('a', 1, NO_LINE);
  tracker.syscall('b', 2, NO_LINE);
  tracker.flush();
  assert.deepEqual(windows.map(arr), [[1], [2]]);
  assert.equal(tracker.size, 0);
});

void test('windowsOfTrace matches the daemon windowing', () => {
  const trace = Array.from({ length: 11 }, (_, i) => i + 2);
  assert.deepEqual(windowsOfTrace(trace, { window: 4, delta: 3, minWindow: 2 }).map((w) => [...w]), [
    [2, 3, 4, 5],
    [5, 6, 7, 8],
    [8, 9, 10, 11],
    [9, 10, 11, 12],
  ]);
  assert.deepEqual(windowsOfTrace([5, 6, 7], { window: 4, delta: 3, minWindow: 2 }).map((w) => [...w]), [[5, 6, 7]]);
  assert.deepEqual(windowsOfTrace([5], { window: 4, delta: 3, minWindow: 2 }), []);
  assert.deepEqual(windowsOfTrace(new Int32Array([5, 6, 7, 8]), { window: 4, delta: 3, minWindow: 2 }).map((w) => [...w]), [[5, 6, 7, 8]]);
});

void test('bad options are refused with a clear error', () => {
  assert.throws(() => setup({ window: 0 }), /window must be a whole number >= 1/);
  assert.throws(() => setup({ delta: 1.5 }), /delta/);
  assert.throws(() => setup({ window: 70000 }), /at most 65536/);
});

void test('a quiet process has its pending calls scored after the idle period, once, and stays tracked', async () => {
  const time = new FakeTime();
  const { tracker, windows, counters } = setup({ window: 8, delta: 4, idleFlushMs: 400, timers: time });
  await tracker.start();
  for (let t = 1; t <= 10; t++) tracker.syscall('busy', t, NO_LINE); // a window at 8
  for (const t of [1, 2, 3]) tracker.syscall('short', t, NO_LINE);
  assert.deepEqual(windows.map(arr), [[1, 2, 3, 4, 5, 6, 7, 8]]);
  time.advance(300);
  assert.equal(windows.length, 1, 'not quiet for a whole idle period yet');
  time.advance(300);
  assert.deepEqual(windows.slice(1).map(arr), [[3, 4, 5, 6, 7, 8, 9, 10], [1, 2, 3]], 'the last calls of each, oldest process first');
  assert.equal(counters.idleFlushes, 2);
  assert.equal(tracker.size, 2);
  time.advance(2000);
  assert.equal(windows.length, 3, 'nothing new to score: no more windows');
  tracker.syscall('short', 4, NO_LINE);
  tracker.exit('short');
  assert.deepEqual(arr(windows[3]), [1, 2, 3, 4], 'at exit only what came since is due: one more window');
  await tracker.stop();
});

void test('a process too short to judge is not flushed when idle', async () => {
  const time = new FakeTime();
  const { tracker, windows } = setup({ minWindow: 3, idleFlushMs: 100, timers: time });
  await tracker.start();
  tracker.syscall('tiny', 1, NO_LINE);
  time.advance(1000);
  assert.equal(windows.length, 0);
  await tracker.stop();
});

void test('a child forked without exec runs its parent\'s program; every exec is told', () => {
  const execs: ProcessInfo[] = [];
  const { tracker, windows } = setup({ onExec: (p) => execs.push(p) });
  tracker.exec({ ...info('parent'), arguments: '-d', pod: { namespace: 'ns', name: 'p', image: 'img:1' } });
  tracker.exec({ execId: 'child', pid: 2, binary: '', arguments: '', parentExecId: 'parent' });
  for (const t of [1, 2, 3, 4]) tracker.syscall('child', t, NO_LINE);
  assert.equal(windows[0].process.binary, '/bin/parent');
  assert.equal(windows[0].process.arguments, '-d');
  assert.equal(windows[0].process.pod?.image, 'img:1');
  assert.deepEqual(execs.map((p) => p.binary), ['/bin/parent', '/bin/parent']);
});
