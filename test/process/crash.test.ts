// Crash: a process storing alerts is SIGKILLed mid-stream (while the broker is also down);
// started again, its outbox drains and every alert it had committed reaches a subscriber.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/store.js';
import { TsChild } from '../helpers/child.js';
import { waitFor } from '../helpers/fake-time.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Subscriber } from '../helpers/mqtt-subscriber.js';
import type { Alert } from '../../src/core/alert.js';

void test('SIGKILL mid-stream loses nothing that was stored; the restart drains the outbox', async () => {
  const broker = await Mosquitto.start({ persistence: true });
  const dir = mkdtempSync(join(tmpdir(), 'argos-crash-'));
  const db = join(dir, 'argos.db');
  const sub = await Subscriber.connect(broker.url, 'argos/crash-node/alert', 'crash-subscriber');
  const children: TsChild[] = [];
  try {
    const first = TsChild.run('test/helpers/alert-daemon.ts', ['--db', db, '--url', broker.url, '--node', 'crash-node', '--alerts', '100000', '--interval', '1']);
    children.push(first);
    await first.waitForEvent('alert', 40);
    await broker.stop();
    await first.waitForEvent('alert', 120);
    assert.equal(await first.kill('SIGKILL'), null, 'killed by the signal');
    const committed = first.events('alert').map((e) => String(e.id));

    // Everything it reported as stored is in the database; some of it never left.
    const store = new SqliteStore({ path: db });
    await store.start();
    const stored = new Set(store.listAlerts(0, 1_000_000).map((a) => a.id));
    const pending = store.outboxDepth('mqtt');
    await store.stop();
    for (const id of committed) assert.ok(stored.has(id), `alert ${id} survived the crash`);
    assert.ok(pending > 0, 'the crash left messages to deliver');

    await broker.start();
    const second = TsChild.run('test/helpers/alert-daemon.ts', ['--db', db, '--url', broker.url, '--node', 'crash-node', '--drain']);
    children.push(second);
    await second.waitForEvent('drained', 1, 30_000);
    assert.deepEqual(second.events('drained')[0], { event: 'drained', ok: true, pending: 0 });
    const received = (): Set<string> => new Set(sub.messages.map((m) => (JSON.parse(m.payload) as Alert).id));
    await waitFor(() => [...stored].every((id) => received().has(id)), 'every stored alert at the subscriber', 20_000);
    assert.equal(await second.kill('SIGTERM'), 0, 'clean stop');
  } finally {
    for (const c of children) await c.kill('SIGKILL');
    await sub.close();
    await broker.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
