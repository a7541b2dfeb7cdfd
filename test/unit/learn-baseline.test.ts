// The baseline recorder, the operators' allowances and commands, over a real SQLite database.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Counters } from '../../src/core/counters.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ProcessInfo } from '../../src/core/types.js';
import { Allowances, SCORE_BAND } from '../../src/learn/allowances.js';
import { Commands } from '../../src/learn/commands.js';
import { REQUEST_KEY } from '../../src/learn/lifecycle.js';
import { BaselineRecorder } from '../../src/learn/recorder.js';
import { SqliteStore, commonCap } from '../../src/store/store.js';
import { universalVocabulary } from '../../src/syscalls/universal.js';
import { tempRoot } from '../integration/onnx-models.js';
import { FakeTime } from '../helpers/fake-time.js';
import { makeAlert } from '../helpers/alerts.js';

const root = tempRoot('argos-learn-baseline-');
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

async function openStore(time = new FakeTime()): Promise<SqliteStore> {
  const store = new SqliteStore({ path: join(root, `db-${++n}.db`), clock: time });
  await store.start();
  return store;
}

const { tokenizer, names } = universalVocabulary();
const tok = (name: string): number => tokenizer.tokenOfName(name);

function proc(i: number, binary = `/usr/bin/tool${i}`): ProcessInfo {
  return { execId: `exec-${i}`, pid: 100 + i, binary, arguments: '' };
}

function recorderOn(store: SqliteStore, o: Partial<ConstructorParameters<typeof BaselineRecorder>[0]> = {}): BaselineRecorder {
  return new BaselineRecorder({ store, names, counters: new Counters(), log: silentLogger(), clock: new FakeTime(), batch: 1, ...o });
}

/** Feeds `calls` (names) of process `p` to the recorder. */
function feed(r: BaselineRecorder, p: ProcessInfo, calls: readonly string[]): void {
  const line = { process: () => p };
  for (const c of calls) r.syscall(p.execId, tok(c), line);
}

void test('every process is written on exit as names; a long-lived one in pieces as it runs', async () => {
  const store = await openStore();
  const programs: string[] = [];
  const r = recorderOn(store, { segmentCalls: 16, onProgram: (p) => programs.push(p) });
  const short = proc(1);
  r.exec(short);
  feed(r, short, ['openat', 'read', 'close']);
  r.exit(short.execId);
  const long = proc(2);
  r.exec(long);
  feed(r, long, Array.from({ length: 40 }, (_, i) => (i % 2 ? 'poll' : 'recvfrom')));
  const traces = [...store.iterateBaseline()];
  assert.deepEqual(traces[0], { ...traces[0], binary: '/usr/bin/tool1', program: '/usr/bin/tool1', syscalls: 'openat read close' });
  assert.equal(traces.length, 3, 'the long-lived process wrote two full pieces of 16 while running');
  assert.deepEqual(
    traces.slice(1).map((t) => t.syscalls.split(' ').length),
    [16, 16],
  );
  r.flush();
  assert.equal([...store.iterateBaseline()].length, 4, 'flush writes the rest (8 calls)');
  assert.deepEqual(programs, ['/usr/bin/tool1', '/usr/bin/tool2']);
  await store.stop();
});

void test('what a flagged process does is held back, and joins the baseline when its alert is allowed', async () => {
  const store = await openStore();
  const r = recorderOn(store);
  const bad = proc(3, '/usr/bin/curl');
  r.exec(bad);
  feed(r, bad, ['socket', 'connect']);
  const alert = makeAlert(3, 1_700_000_000_000, { program: '/usr/bin/curl', score: 0.8 });
  store.saveAlert(alert, []);
  r.flag(bad.execId, alert.id);
  feed(r, bad, ['dup2', 'dup2', 'execve']);
  r.exit(bad.execId);
  assert.equal([...store.iterateBaseline()].length, 0, 'nothing of it is learned');
  assert.equal(store.quarantineStats().traces, 1);

  const allowances = new Allowances(store);
  const commands = new Commands({ store, node: 'n1', clock: new FakeTime(), live: { relearn: () => Promise.reject(new Error('no')), status: () => assert.fail('not asked'), allowancesChanged: () => allowances.reload() } });
  // The alerts table shows the end of the id; that is enough.
  const result = await commands.run({ id: 'c1', command: 'allow', alert: alert.id.slice(-8) });
  assert.equal(result.ok, true, result.error);
  assert.equal(result.id, 'c1');
  assert.match(result.message ?? '', /1 held-back trace joins|1 held-back trace join/);
  assert.deepEqual(
    [...store.iterateBaseline()].map((t) => t.syscalls),
    ['socket connect dup2 dup2 execve'],
  );
  assert.equal(store.quarantineStats().traces, 0);
  // Until the next training: scores up to SCORE_BAND × the allowed one, of that program only.
  assert.ok(allowances.coversAnomaly('/usr/bin/curl', '/usr/bin/curl', 0.8 * SCORE_BAND - 1e-9));
  assert.ok(!allowances.coversAnomaly('/usr/bin/curl', '/usr/bin/curl', 0.8 * SCORE_BAND + 0.01), 'a much worse score still alerts');
  assert.ok(!allowances.coversAnomaly('/usr/bin/wget', '/usr/bin/wget', 0.1));
  assert.ok(!allowances.coversProgram('/usr/bin/curl', '/usr/bin/curl'), 'one alert does not allow the whole program');
  await store.stop();
});

void test('allowing a program covers it by key or binary, and releases what it had held back', async () => {
  const store = await openStore();
  const r = recorderOn(store);
  const p = { ...proc(4, '/app/server'), pod: { namespace: 'ns', name: 'web-1', container: 'c', image: 'registry/web:1.2' } } as ProcessInfo;
  r.exec(p);
  r.flag(p.execId, undefined);
  feed(r, p, ['accept4', 'read']);
  r.exit(p.execId);
  assert.equal(store.quarantineStats().traces, 1);
  const allowances = new Allowances(store);
  const commands = new Commands({ store, node: 'n1', clock: new FakeTime(), live: { relearn: () => Promise.reject(new Error('no')), status: () => assert.fail('not asked'), allowancesChanged: () => allowances.reload() } });
  const result = await commands.run({ id: 'c2', command: 'allow', program: '/app/server' });
  assert.equal(result.ok, true);
  assert.equal(store.quarantineStats().traces, 0, 'held back by binary, released by binary');
  const key = [...store.iterateBaseline()][0]?.program ?? '';
  assert.notEqual(key, '/app/server', 'the pod process is keyed by its image');
  assert.ok(allowances.coversProgram(key, '/app/server'));
  assert.ok(allowances.coversAnomaly(key, '/app/server', 1e9));
  await store.stop();
});

void test('a bad command changes nothing and says why; an unknown or ambiguous alert is refused', async () => {
  const store = await openStore();
  const commands = new Commands({ store, node: 'n1', clock: new FakeTime() });
  for (const payload of ['not json', '{"command":"format-disk","id":"x"}', '{"command":"allow","id":"y"}', JSON.stringify({ command: 'allow', id: 'z', alert: 'a'.repeat(5000) })]) {
    const r = await commands.runMessage(payload);
    assert.equal(r.ok, false, payload);
    assert.ok((r.error ?? '').length > 5, `an error names the problem: ${payload}`);
    assert.equal(r.node, 'n1');
  }
  store.saveAlert(makeAlert(1, 1_700_000_000_000, { id: '0190aaaa-0000-7000-8000-1111aaaabbbb' }), []);
  store.saveAlert(makeAlert(2, 1_700_000_000_000, { id: '0190aaaa-0000-7000-8000-2222aaaabbbb' }), []);
  const ambiguous = await commands.run({ id: 'a', command: 'allow', alert: 'aaaabbbb' });
  assert.equal(ambiguous.ok, false);
  assert.match(ambiguous.error ?? '', /more than one/);
  const unknown = await commands.run({ id: 'b', command: 'allow', alert: 'ffffffffffff' });
  assert.match(unknown.error ?? '', /no alert ffffffffffff/);
  const short = await commands.run({ id: 'c', command: 'allow', alert: 'aa11' });
  assert.equal(short.ok, false, 'too short an id is not guessed at');
  assert.equal(store.listAllowances().length, 0);
  // Without a running daemon, relearn is left as a request for it.
  const relearn = await commands.run({ id: 'd', command: 'relearn' });
  assert.equal(relearn.ok, true);
  assert.deepEqual(store.getLifecycle(REQUEST_KEY), { kind: 'relearn' });
  const status = await commands.run({ id: 'e', command: 'status' });
  assert.equal(status.ok, false, 'no state before the daemon ran');
  await store.stop();
});

void test('the rolling baseline keeps its size by dropping the oldest of the largest program; rare programs stay', async () => {
  const store = await openStore();
  const r = recorderOn(store, { maxBaselineCalls: 100 });
  const rare = proc(9, '/usr/sbin/logrotate');
  r.exec(rare);
  feed(r, rare, ['openat', 'rename', 'close']);
  r.exit(rare.execId);
  for (let i = 10; i < 40; i++) {
    const chatty = { ...proc(i, '/usr/bin/chatty') };
    r.exec(chatty);
    feed(r, chatty, Array.from({ length: 10 }, () => 'write'));
    r.exit(chatty.execId);
  }
  const stats = store.baselineStats();
  assert.ok(stats.syscalls <= 100, `at most 100 calls kept (${stats.syscalls})`);
  const kept = [...store.iterateBaseline()];
  assert.ok(kept.some((t) => t.program === '/usr/sbin/logrotate'), 'the rare program stays');
  const chattyIds = kept.filter((t) => t.program === '/usr/bin/chatty').map((t) => Number(t.execId.split('-')[1]));
  assert.ok(Math.min(...chattyIds) > 10, 'the oldest of the chatty program went first');
  await store.stop();
});

void test('memory is bounded: beyond maxBufferedCalls the largest live process is written early', async () => {
  const store = await openStore();
  const r = recorderOn(store, { maxBufferedCalls: 50, segmentCalls: 1000 });
  const big = proc(1);
  const small = proc(2);
  r.exec(big);
  r.exec(small);
  feed(r, small, ['read', 'read']);
  feed(r, big, Array.from({ length: 49 }, () => 'write'));
  assert.equal(store.baselineStats().traces, 1, 'the 51st call wrote the largest');
  assert.equal([...store.iterateBaseline()][0]?.binary, '/usr/bin/tool1');
  assert.equal(r.size, 2, 'both are still followed');
  await store.stop();
});

void test('a fork without exec is learned as its parent\'s program, as the tracker scores it', async () => {
  const store = await openStore();
  const r = recorderOn(store);
  const shell = proc(20, '/usr/bin/bash');
  r.exec(shell);
  feed(r, shell, ['clone']);
  const sub: ProcessInfo = { execId: 'exec-21', pid: 121, binary: '', arguments: '', parentExecId: shell.execId };
  r.exec(sub);
  feed(r, sub, ['close', 'dup2', 'wait4']);
  r.exit(sub.execId);
  // A child first seen by its calls (its fork event lost) is matched to its parent too.
  const late: ProcessInfo = { execId: 'exec-22', pid: 122, binary: '', arguments: '', parentExecId: shell.execId };
  feed(r, late, ['read']);
  r.exit(late.execId);
  assert.deepEqual(
    [...store.iterateBaseline()].map((t) => [t.execId, t.program]),
    [
      ['exec-21', '/usr/bin/bash'],
      ['exec-22', '/usr/bin/bash'],
    ],
  );
  await store.stop();
});

void test('an exec ends the image the process ran before: a fork child that execs is written without an exit of its own', async () => {
  const store = await openStore();
  const r = recorderOn(store);
  const child: ProcessInfo = { execId: 'clone-1', pid: 300, binary: '/usr/bin/bash', arguments: '' };
  r.exec(child);
  feed(r, child, ['close', 'dup2', 'execve']);
  const image: ProcessInfo = { execId: 'exec-1', pid: 300, binary: '/usr/bin/sleep', arguments: '1' };
  r.exec(image);
  assert.deepEqual(
    [...store.iterateBaseline()].map((t) => [t.execId, t.syscalls]),
    [['clone-1', 'close dup2 execve']],
  );
  assert.equal(r.size, 1, 'only the new image is followed');
  await store.stop();
});

void test('trimming cuts the largest programs down to one common size; the small ones stay whole', () => {
  assert.equal(commonCap([10, 20, 300, 500], 430), 200, '10 + 20 + 200 + 200 = 430');
  assert.equal(commonCap([10, 20], 100), Number.POSITIVE_INFINITY, 'nothing to cut');
  assert.equal(commonCap([100, 100, 100], 150), 50);
  assert.equal(commonCap([5, 1000], 3), 1, 'even the small one is cut when the goal is tiny');
});

void test('pieces settle before they are written: a verdict in the meantime holds back the window it judged, a late one is counted', async () => {
  const time = new FakeTime();
  const store = await openStore(time);
  const r = recorderOn(store, { clock: time, timers: time, settleMs: 2000, batch: 4096 });
  const calls = (n: number, name = 'read'): string[] => Array.from({ length: n }, () => name);
  const a = proc(70);
  r.exec(a);
  feed(r, a, calls(5));
  r.exit(a.execId);
  time.advance(1999);
  assert.equal(store.baselineStats().traces, 0, 'settling');
  time.advance(1);
  assert.equal(store.baselineStats().traces, 1, 'written once settled');

  // A short process whose last window alerts after it exited.
  const b = proc(71);
  r.exec(b);
  feed(r, b, calls(20, 'socket'));
  r.exit(b.execId);
  time.advance(500);
  r.flag(b.execId, 'alert-b', { end: 20, length: 20 });
  // A long-lived one: calls 30..59 alerted while it runs; before and after are learned.
  const c = proc(72);
  r.exec(c);
  feed(r, c, [...calls(30, 'read'), ...calls(30, 'connect'), ...calls(10, 'write')]);
  r.flag(c.execId, 'alert-c', { end: 60, length: 30 });
  feed(r, c, calls(30, 'write'));
  r.exit(c.execId);
  time.advance(2000);
  const learned = [...store.iterateBaseline()].map((t) => [t.execId, t.syscalls.split(' ').length, t.syscalls.split(' ')[0]]);
  assert.deepEqual(learned.slice(1), [
    ['exec-72', 30, 'read'],
    ['exec-72', 40, 'write'],
  ]);
  assert.equal(store.quarantineStats().traces, 2, 'the short process and the window of the long one');
  assert.equal(store.quarantineStats().syscalls, 50);
  assert.equal(store.releaseQuarantine({ alertId: 'alert-c' }), 1, 'held back under its alert');

  // Too late: written already.
  const d = proc(73);
  r.exec(d);
  feed(r, d, calls(5));
  r.exit(d.execId);
  time.advance(4000);
  r.flag(d.execId, 'alert-d', { end: 5, length: 5 });
  assert.equal(r.late, 1);
  assert.deepEqual(time.waiting, [], 'no timer left once everything is written');
  await store.stop();
});

void test('a quiet long-lived process is learnt too: its calls are cut after maxPieceAgeMs, and all of them before a training', async () => {
  const time = new FakeTime();
  const store = await openStore(time);
  const r = recorderOn(store, { clock: time, maxPieceAgeMs: 60_000 });
  const service = proc(80, '/usr/bin/python3.11');
  r.exec(service);
  feed(r, service, Array.from({ length: 100 }, () => 'poll'));
  time.advance(60_000);
  assert.equal(store.baselineStats().traces, 0, 'nothing cut before 256 calls are checked');
  feed(r, service, Array.from({ length: 200 }, () => 'accept4'));
  assert.equal(store.baselineStats().traces, 1, 'cut once its piece was a minute old');
  feed(r, service, ['recvfrom', 'sendto']);
  r.checkpoint();
  assert.deepEqual(
    [...store.iterateBaseline()].map((t) => t.syscalls.split(' ').length),
    [255, 47],
    'a checkpoint writes what it still holds',
  );
  assert.equal(r.size, 1, 'and keeps following it');
  await store.stop();
});
