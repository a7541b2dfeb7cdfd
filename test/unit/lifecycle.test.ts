import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LifecycleGroup } from '../../src/core/lifecycle.js';
import { handleShutdown, type SignalTarget } from '../../src/core/shutdown.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Lifecycle } from '../../src/core/types.js';
import { FakeTime } from '../helpers/fake-time.js';

function recorder(log: string[], name: string, opts: { failStop?: boolean; startGate?: Promise<void> } = {}): Lifecycle {
  return {
    async start() {
      log.push(`start ${name}`);
      if (opts.startGate) await opts.startGate;
    },
    async stop() {
      log.push(`stop ${name}`);
      if (opts.failStop) throw new Error(`${name} broke`);
    },
  };
}

test('parts start in order and stop in reverse; a failing stop does not block the others', async () => {
  const log: string[] = [];
  const g = new LifecycleGroup(
    [
      { name: 'a', part: recorder(log, 'a') },
      { name: 'b', part: recorder(log, 'b', { failStop: true }) },
      { name: 'c', part: recorder(log, 'c') },
    ],
    silentLogger(),
  );
  await g.start();
  await g.stop();
  await g.stop(); // idempotent
  assert.deepEqual(log, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
});

test('a stop during a slow start stops the part being started and skips the rest', async () => {
  const log: string[] = [];
  let open: () => void = () => {};
  const gate = new Promise<void>((r) => (open = r));
  const g = new LifecycleGroup(
    [
      { name: 'a', part: recorder(log, 'a') },
      { name: 'slow', part: recorder(log, 'slow', { startGate: gate }) },
      { name: 'never', part: recorder(log, 'never') },
    ],
    silentLogger(),
  );
  const starting = g.start();
  await new Promise((r) => setImmediate(r));
  const stopping = g.stop();
  open();
  await starting;
  await stopping;
  assert.deepEqual(log, ['start a', 'start slow', 'stop slow', 'stop a']);
});

class FakeProcess implements SignalTarget {
  handlers = new Map<string, () => void>();
  exits: number[] = [];
  on(signal: string, h: () => void) {
    this.handlers.set(signal, h);
  }
  off(signal: string) {
    this.handlers.delete(signal);
  }
  exit(code: number) {
    this.exits.push(code);
  }
  send(signal: string) {
    this.handlers.get(signal)?.();
  }
}

test('first signal stops gracefully with 128+n; a second forces the exit', async () => {
  const proc = new FakeProcess();
  const events: string[] = [];
  let finish: () => void = () => {};
  const h = handleShutdown({
    target: proc,
    log: silentLogger(),
    deadlineMs: 60_000,
    stop: () => new Promise<void>((r) => (finish = r)),
    onStopping: () => events.push('STOPPING'),
    beforeExit: () => events.push('flush'),
    timers: new FakeTime(),
  });
  proc.send('SIGTERM');
  assert.deepEqual(events, ['STOPPING']);
  proc.send('SIGINT');
  assert.deepEqual(proc.exits, [130], 'second signal exits at once');
  finish();
  assert.equal(await h.stopped, 143);
  h.dispose();
  assert.equal(proc.handlers.size, 0);
});

test('the deadline forces the exit when stop hangs', () => {
  const proc = new FakeProcess();
  const time = new FakeTime();
  handleShutdown({
    target: proc,
    log: silentLogger(),
    deadlineMs: 5,
    stop: () => new Promise<void>(() => {}),
    timers: time,
  });
  proc.send('SIGINT');
  time.advance(4);
  assert.deepEqual(proc.exits, []);
  time.advance(1);
  assert.deepEqual(proc.exits, [130]);
});
