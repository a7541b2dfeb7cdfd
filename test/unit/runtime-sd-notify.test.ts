import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SdNotify } from '../../src/runtime/sd-notify.js';
import { FakeTime } from '../helpers/fake-time.js';

function recorder() {
  const sent: string[] = [];
  return { sent, transport: async (_socket: string, state: string) => (sent.push(state), true) };
}

void test('without NOTIFY_SOCKET, or when disabled, nothing is sent', async () => {
  const r = recorder();
  const off = new SdNotify({ env: {}, transport: r.transport });
  assert.equal(off.active, false);
  assert.equal(await off.ready(), false);
  assert.equal(off.startWatchdog(), false);
  const disabled = new SdNotify({ env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '1000000' }, enabled: false, transport: r.transport });
  assert.equal(await disabled.notify('READY=1'), false);
  assert.equal(disabled.startWatchdog(), false);
  assert.deepEqual(r.sent, []);
});

void test('ready, status and stopping are sent in order', async () => {
  const r = recorder();
  const n = new SdNotify({ env: { NOTIFY_SOCKET: '@sd' }, transport: r.transport });
  void n.ready('watching 3 sources');
  void n.status('degraded: broker unreachable');
  assert.equal(await n.stopping(), true);
  assert.deepEqual(r.sent, ['READY=1\nSTATUS=watching 3 sources', 'STATUS=degraded: broker unreachable', 'STOPPING=1\nSTATUS=stopping']);
});

void test('watchdog pings at half of WATCHDOG_USEC while healthy, and stops on stopping()', async () => {
  const r = recorder();
  const timers = new FakeTime();
  let healthy = true;
  const n = new SdNotify({ env: { NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '20000000' }, pid: 42, transport: r.transport, timers });
  assert.equal(n.watchdogIntervalMs(), 10_000);
  assert.equal(n.startWatchdog(() => healthy), true);
  assert.equal(n.startWatchdog(), false, 'one watchdog timer at most');
  assert.deepEqual(timers.waiting, [10_000]);
  timers.advance(10_000);
  healthy = false;
  timers.advance(10_000);
  healthy = true;
  timers.advance(10_000);
  await n.stopping();
  assert.deepEqual(timers.waiting, []);
  assert.deepEqual(r.sent, ['WATCHDOG=1', 'WATCHDOG=1', 'STOPPING=1\nSTATUS=stopping']);
});

void test('the watchdog is for the main process only (WATCHDOG_PID)', () => {
  const env = { NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '4000000', WATCHDOG_PID: '7' };
  assert.equal(new SdNotify({ env, pid: 8 }).watchdogIntervalMs(), undefined);
  assert.equal(new SdNotify({ env, pid: 7 }).watchdogIntervalMs(), 2000);
  assert.equal(new SdNotify({ env: { NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: 'x' } }).watchdogIntervalMs(), undefined);
});

void test('a failed send is reported once per kind and never throws', async () => {
  const errors: string[] = [];
  let calls = 0;
  const n = new SdNotify({
    env: { NOTIFY_SOCKET: '/run/n' },
    transport: async () => {
      calls++;
      if (calls === 1) throw new Error('boom');
      return false;
    },
    onError: (state, reason) => errors.push(`${state}: ${reason}`),
  });
  assert.equal(await n.notify('WATCHDOG=1'), false);
  assert.equal(await n.notify('WATCHDOG=1'), false);
  assert.equal(await n.ready(), false);
  assert.deepEqual(errors, ['WATCHDOG=1: boom', 'READY=1: not delivered']);
});
