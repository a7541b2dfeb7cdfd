// The managed and tetra sources against test/fixtures/fake-tetragon, a real child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ManagedTetragonSource, EXPORT_ALLOWLIST } from '../../src/sources/managed.js';
import { TetraSource } from '../../src/sources/tetra.js';
import { SourceError } from '../../src/sources/errors.js';
import { defaultPolicyPath } from '../../src/sources/policy.js';
import { Counters } from '../../src/core/counters.js';
import { silentLogger } from '../../src/core/logger.js';
import { waitFor } from '../helpers/fake-time.js';
import { type Timers, systemTimers } from '../../src/core/time.js';

const FAKE = resolve('test/fixtures/fake-tetragon');
const POLL = 30;
const READY = 10_000;
const STOP = 450;

const recording = [
  '{"process_exec":{"process":{"exec_id":"bjoxOjc=","pid":7,"binary":"/bin/a"}},"node_name":"n","time":"2025-01-01T00:00:00Z"}',
  '{"process_kprobe":{"process":{"exec_id":"bjoxOjc=","pid":7}},"node_name":"n","time":"2025-01-01T00:00:00Z"}',
  '{"process_tracepoint":{"process":{"exec_id":"bjoxOjc=","pid":7},"subsys":"raw_syscalls","event":"sys_enter","args":[{"syscall_id":{"id":0,"abi":"x64"}}]},"node_name":"n","time":"2025-01-01T00:00:01Z"}',
  '{"process_exit":{"process":{"exec_id":"bjoxOjc=","pid":7}},"node_name":"n","time":"2025-01-01T00:00:02Z"}',
];
const allowed = recording.filter((l) => !l.includes('process_kprobe'));

function recordingTimers(): { timers: Timers; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    timers: {
      ...systemTimers,
      setTimeout: (fn, ms, options) => {
        delays.push(ms);
        return systemTimers.setTimeout(fn, ms, options);
      },
    },
  };
}

function setup(t: { after(fn: () => Promise<void>): void }, env: Record<string, string>, opts: { bin?: string; privileges?: () => Promise<string | undefined>; readyMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'argos-managed-'));
  const rec = join(dir, 'rec.jsonl');
  writeFileSync(rec, `${recording.join('\n')}\n`);
  const fakeLog = join(dir, 'fake.log');
  const lines: string[] = [];
  const counters = new Counters();
  const { timers, delays } = recordingTimers();
  const exportFile = join(dir, 'run', 'tetragon.log');
  const src = new ManagedTetragonSource({
    bin: opts.bin ?? FAKE,
    exportFile,
    extraArgs: ['--export-rate-limit', '-1'],
    readyTimeoutMs: opts.readyMs ?? READY,
    sink: { line: (l) => lines.push(l) },
    logger: silentLogger(),
    counters,
    timers,
    backoff: { initialMs: 100, maxMs: 400, random: () => 0 },
    stopTimeoutMs: STOP,
    pollMs: POLL,
    privileges: opts.privileges ?? (() => Promise.resolve(undefined)),
    env: { ...process.env, FAKE_TETRAGON_RECORDING: rec, FAKE_TETRAGON_LOG: fakeLog, ...env },
  });
  t.after(async () => {
    await src.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const fakeEvents = (): string[] => (existsSync(fakeLog) ? readFileSync(fakeLog, 'utf8').trim().split('\n') : []);
  const restartDelays = (): number[] => delays.filter((d) => d !== POLL && d !== READY && d !== STOP);
  return { src, lines, counters, exportFile, fakeEvents, restartDelays };
}

void test('Tetragon gets the policy, export file and allowlist; when it dies it is restarted with backoff and events keep coming', async (t) => {
  const { src, lines, counters, exportFile, fakeEvents, restartDelays } = setup(t, { FAKE_TETRAGON_EXIT_AFTER: '0' });
  await src.start();
  assert.ok(lines.length >= 1, 'start() resolved once events were flowing');
  await waitFor(() => src.starts >= 5 && lines.length >= 5 * allowed.length, "five runs of Tetragon");
  await src.stop();
  const starts = fakeEvents().filter((e) => e.startsWith('start '));
  const args = JSON.parse(starts[0].slice(starts[0].indexOf('['))) as string[];
  assert.deepEqual(args, ['--tracing-policy', defaultPolicyPath(), '--export-filename', exportFile, '--export-allowlist', EXPORT_ALLOWLIST, '--export-rate-limit', '-1']);
  // Every run's events, whole and in order; only the allowed types (the fake honours the allowlist).
  assert.equal(lines.length % allowed.length, 0);
  for (let i = 0; i < lines.length; i++) assert.equal(lines[i], allowed[i % allowed.length]);
  assert.equal(lines.length / allowed.length, starts.length);
  assert.ok(counters.sourceRestarts >= 3);
  assert.deepEqual(restartDelays().slice(0, 4), [100, 200, 400, 400], 'exponential, capped at 400 ms');
});

void test('stop() sends SIGTERM, then SIGKILL to a Tetragon that ignores it', async (t) => {
  const { src, fakeEvents } = setup(t, { FAKE_TETRAGON_EXIT_AFTER: 'never', FAKE_TETRAGON_IGNORE_TERM: '1' });
  await src.start();
  const pid = src.pid;
  assert.ok(pid !== undefined);
  const began = Date.now();
  await src.stop();
  assert.ok(Date.now() - began >= STOP - 20, 'waited for the SIGTERM deadline');
  assert.throws(() => process.kill(pid, 0), /ESRCH/);
  const events = fakeEvents();
  assert.ok(events.includes(`term ${pid}`));
  assert.ok(!events.includes(`exit ${pid}`), 'it did not exit by itself');
  await src.stop(); // idempotent
});

void test('a Tetragon that obeys SIGTERM is not killed', async (t) => {
  const { src, fakeEvents } = setup(t, { FAKE_TETRAGON_EXIT_AFTER: 'never' });
  await src.start();
  const pid = src.pid;
  await src.stop();
  assert.ok(fakeEvents().includes(`exit ${pid}`));
});

void test('a missing binary, missing privileges and a Tetragon that never gets ready are clear errors', async (t) => {
  const missing = setup(t, {}, { bin: '/nonexistent/tetragon' });
  await assert.rejects(missing.src.start(), (e: unknown) => e instanceof SourceError && e.kind === 'missing-binary' && /ARGOS_TETRAGON_BIN/.test(e.message) && /ARGOS_SOURCE=export/.test(e.message));

  const noCaps = setup(t, {}, { privileges: () => Promise.resolve('Tetragon needs root') });
  await assert.rejects(noCaps.src.start(), (e: unknown) => e instanceof SourceError && e.kind === 'permission');
  assert.deepEqual(noCaps.fakeEvents(), [], 'nothing was started');

  const slow = setup(t, { FAKE_TETRAGON_READY_DELAY: '60000' }, { readyMs: 300 });
  await assert.rejects(slow.src.start(), (e: unknown) => e instanceof SourceError && e.kind === 'not-ready' && /Starting tetragon/.test(e.message));
  const pid = Number(slow.fakeEvents()[0].split(' ')[1]);
  assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the unready Tetragon was stopped');
});

void test('tetra getevents: event-type filter, stdout lines, restart after it ends', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-tetra-'));
  const rec = join(dir, 'rec.jsonl');
  writeFileSync(rec, `${recording.join('\n')}\n`);
  const lines: string[] = [];
  const counters = new Counters();
  const src = new TetraSource({
    bin: FAKE, // called as `FAKE getevents ...` it behaves like tetra
    server: 'unix:///var/run/tetragon/tetragon.sock',
    sink: { line: (l) => lines.push(l) },
    logger: silentLogger(),
    counters,
    timers: recordingTimers().timers,
    backoff: { initialMs: 50, maxMs: 100, random: () => 0 },
    stopTimeoutMs: STOP,
    env: { ...process.env, FAKE_TETRAGON_RECORDING: rec, FAKE_TETRAGON_LOG: join(dir, 'log') },
  });
  t.after(async () => {
    await src.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await src.start();
  await waitFor(() => lines.length >= 2 * allowed.length, 'two runs of tetra');
  await src.stop();
  for (let i = 0; i < lines.length; i++) assert.equal(lines[i], allowed[i % allowed.length]);
  assert.ok(counters.sourceRestarts >= 1);
  const first = readFileSync(join(dir, 'log'), 'utf8').split('\n')[0];
  assert.ok(first.includes('["getevents","-o","json","--event-types","PROCESS_TRACEPOINT,PROCESS_EXEC,PROCESS_EXIT","--server-address","unix:///var/run/tetragon/tetragon.sock"]'), first);
  const missing = new TetraSource({ bin: 'no-such-tetra-here', sink: { line: () => {} }, logger: silentLogger(), counters, timers: recordingTimers().timers });
  await assert.rejects(missing.start(), /ARGOS_TETRA_BIN/);
});
