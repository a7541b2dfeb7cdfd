// Reporting as the daemon builds it from the configuration: MQTT and Ntfy together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Alerter } from '../../src/alerter/alerter.js';
import { loadConfig } from '../../src/config/load.js';
import { Counters } from '../../src/core/counters.js';
import { silentLogger } from '../../src/core/logger.js';
import { buildReporting } from '../../src/daemon/reporting.js';
import { SqliteStore } from '../../src/store/store.js';
import { makeProcess } from '../helpers/alerts.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Subscriber } from '../helpers/mqtt-subscriber.js';

void test('no reporter is configured by default', () => {
  const config = loadConfig({ env: {} });
  const r = buildReporting({ config, store: new SqliteStore({ path: ':memory:' }), counters: new Counters(), log: silentLogger() }).reporting;
  assert.deepEqual(r.names, []);
});

void test('with ARGOS_MQTT_URL and ARGOS_NTFY_TOPIC every alert reaches both, and drain waits for them', async () => {
  const broker = await Mosquitto.start();
  const posts: string[] = [];
  const http = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      posts.push(`${req.url} ${/Alert: (\S+)/.exec(body)?.[1]}`);
      res.end('{}');
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const sub = await Subscriber.connect(broker.url, 'argos/n1/alert');
  const config = loadConfig({
    env: { ARGOS_MQTT_URL: broker.url, ARGOS_NTFY_TOPIC: 'edge', ARGOS_NTFY_SERVER: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, MACHINE_NAME: 'n1' },
  });
  const log = silentLogger();
  const counters = new Counters();
  const store = new SqliteStore({ path: ':memory:' });
  const { reporting } = buildReporting({ config, store, counters, log });
  assert.deepEqual(reporting.names, ['mqtt', 'ntfy']);
  const alerter = new Alerter({ store, reporters: reporting.names, node: 'n1', model: { name: 'm', threshold: 0.5 }, throttleWindowMs: 1000, throttleMax: 10, counters, log, onQueued: () => reporting.wake() });
  try {
    await store.start();
    await reporting.start();
    await alerter.start();
    for (let i = 0; i < 3; i++) alerter.verdict({ window: { process: makeProcess(i), tokens: new Int32Array(8), seq: 0, final: false, at: Date.now() }, score: 0.9 });
    assert.equal(await reporting.drain(10_000), true);
    const ids = store.listAlerts(0, 10).map((a) => a.id).reverse();
    assert.deepEqual(posts, ids.map((id) => `/edge ${id}`));
    await sub.waitFor((s) => s.messages.length === 3, 'three MQTT alerts');
  } finally {
    await alerter.stop();
    await reporting.stop();
    await store.stop();
    await sub.close();
    await new Promise<void>((r) => http.close(() => r()));
    await broker.dispose();
  }
});
