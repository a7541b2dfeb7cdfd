import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { OutboxMessage } from '../../src/core/storage.js';
import type { Lifecycle } from '../../src/core/types.js';
import type { Reporter, SendResult } from '../../src/reporters/reporter.js';
import { Reporting } from '../../src/reporters/reporting.js';
import { SqliteStore } from '../../src/store/store.js';

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
