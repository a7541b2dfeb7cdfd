import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { OutboxMessage } from '../../src/core/storage.js';
import type { Lifecycle } from '../../src/core/types.js';
import type { Reporter, SendResult } from '../../src/reporters/reporter.js';
import { Reporting } from '../../src/reporters/reporting.js';
import { SqliteStore } from '../../src/store/store.js';
import { makeAlert } from '../helpers/alerts.js';
import { waitFor } from '../helpers/fake-time.js';
import { hasDuplicateKeys } from '../helpers/json-keys.js';

class StubReporter implements Reporter, Lifecycle {
  stopped = false;
  constructor(
    readonly name: string,
    private readonly failStop: boolean,
  ) {}
  async send(_m: OutboxMessage): Promise<SendResult> {
    return { kind: 'delivered' };
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.failStop) throw new Error(`${this.name} cannot say goodbye`);
  }
}

void test('stop reaches every reporter even when one fails to stop, and logs the failure', async () => {
  const store = new SqliteStore({ path: ':memory:' });
  await store.start();
  const logs: { msg: string; part?: string }[] = [];
  const log = pino({ level: 'error' }, { write: (s: string) => void logs.push(JSON.parse(s) as { msg: string; part?: string }) });
  const failing = new StubReporter('ntfy', true);
  const mqtt = new StubReporter('mqtt', false);
  const reporting = new Reporting({ reporters: [failing, mqtt], store, log });
  try {
    await reporting.start();
    await reporting.stop();
    assert.equal(failing.stopped, true);
    assert.equal(mqtt.stopped, true, 'the MQTT reporter is stopped (and says offline) although another failed');
    assert.deepEqual(
      logs.map((l) => [l.msg, l.part]),
      [['failed to stop cleanly', 'ntfy']],
    );
  } finally {
    await store.stop();
  }
});

void test('outbox warnings name their module and reporter once (no key twice in a log line)', async () => {
  const store = new SqliteStore({ path: ':memory:' });
  await store.start();
  const lines: string[] = [];
  // The daemon's root logger, as buildReporting gets it.
  const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push(s.trim()) });
  const down: Reporter & Lifecycle = { name: 'mqtt', send: async () => ({ kind: 'retry', reason: 'down' }), start: async () => {}, stop: async () => {} };
  const reporting = new Reporting({ reporters: [down], store, log });
  try {
    store.saveAlert(makeAlert(1, Date.now()), ['mqtt']);
    await reporting.start();
    reporting.wake();
    await waitFor(() => lines.some((l) => l.includes('delivery failed')), 'a delivery warning');
    for (const line of lines) assert.equal(hasDuplicateKeys(line), false, line);
    const warning = JSON.parse(lines.find((l) => l.includes('delivery failed')) as string) as { module: string; reporter: string };
    assert.equal(warning.module, 'outbox');
    assert.equal(warning.reporter, 'mqtt');
  } finally {
    await reporting.stop();
    await store.stop();
  }
});
