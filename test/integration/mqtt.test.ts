// The MQTT reporter against a real mosquitto on 127.0.0.1, with a real subscriber.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Alerter } from '../../src/alerter/alerter.js';
import { Counters } from '../../src/core/counters.js';
import { createLogger, silentLogger } from '../../src/core/logger.js';
import { MqttReporter } from '../../src/reporters/mqtt.js';
import { OutboxLoop } from '../../src/reporters/outbox.js';
import { SqliteStore } from '../../src/store/store.js';
import { makeProcess } from '../helpers/alerts.js';
import { TsChild } from '../helpers/child.js';
import { waitFor } from '../helpers/fake-time.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Subscriber } from '../helpers/mqtt-subscriber.js';
import type { Alert } from '../../src/core/alert.js';

let broker: Mosquitto;
let dir: string;
before(async () => {
  broker = await Mosquitto.start({ persistence: true });
  dir = mkdtempSync(join(tmpdir(), 'argos-mqtt-'));
});
after(async () => {
  await broker.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const fast = { initialMs: 100, maxMs: 800 };

async function pipeline(node: string, extra: { stats?: boolean } = {}) {
  const log = process.env.DEBUG_MQTT ? createLogger('debug') : silentLogger();
  const counters = new Counters();
  const store = new SqliteStore({ path: join(dir, `${node}.db`) });
  const mqtt = new MqttReporter({
    url: broker.url,
    prefix: 'argos',
    node,
    log,
    backoff: fast,
    statsIntervalMs: 100,
    stats: extra.stats ? () => ({ counters: counters.snapshot(), outbox: store.outboxDepth() }) : undefined,
  });
  const loop = new OutboxLoop({ store, reporter: mqtt, log, backoff: fast });
  const alerter = new Alerter({ store, reporters: ['mqtt'], node, model: { name: 'm1', threshold: 0.5 }, throttleWindowMs: 60_000, throttleMax: 100, counters, log, onQueued: () => loop.wake() });
  await store.start();
  await mqtt.start();
  await loop.start();
  await alerter.start();
  let n = 0;
  const raise = (): void => alerter.verdict({ window: { process: makeProcess(n++), tokens: new Int32Array(24), seq: 2, final: false, at: Date.now() }, score: 0.75 });
  const stop = async (): Promise<void> => {
    await alerter.stop();
    await loop.stop();
    await mqtt.stop();
    await store.stop();
  };
  return { store, mqtt, loop, alerter, counters, raise, stop };
}

void test('status is online (retained) on connect and offline (retained) after a clean stop', async () => {
  const p = await pipeline('status-node');
  await waitFor(() => p.mqtt.connected, 'connected');
  // A subscriber that comes later still gets the retained status.
  const sub = await Subscriber.connect(broker.url, 'argos/status-node/#');
  try {
    await sub.waitFor((s) => s.on('argos/status-node/status').length > 0, 'retained status');
    assert.deepEqual(sub.on('argos/status-node/status')[0], { topic: 'argos/status-node/status', payload: 'online', retain: true, qos: 1 });
    await p.stop();
    await sub.waitFor((s) => s.on('argos/status-node/status').some((m) => m.payload === 'offline'), 'offline');
  } finally {
    await sub.close();
  }
  const late = await Subscriber.connect(broker.url, 'argos/status-node/status');
  try {
    await late.waitFor((s) => s.messages.length > 0, 'retained offline');
    assert.equal(late.messages[0].payload, 'offline');
    assert.equal(late.messages[0].retain, true);
  } finally {
    await late.close();
  }
});

void test('the Last Will marks a killed process offline', async () => {
  const sub = await Subscriber.connect(broker.url, 'argos/will-node/status');
  const child = TsChild.run('test/helpers/alert-daemon.ts', ['--db', join(dir, 'will.db'), '--url', broker.url, '--node', 'will-node']);
  try {
    await child.waitForEvent('ready');
    await sub.waitFor((s) => s.messages.some((m) => m.payload === 'online'), 'online');
    await child.kill('SIGKILL');
    await sub.waitFor((s) => s.messages.at(-1)?.payload === 'offline', 'Last Will offline');
  } finally {
    await child.kill('SIGKILL');
    await sub.close();
  }
});

void test('alerts arrive with the documented JSON, QoS 1, not retained; stats are published', async () => {
  const sub = await Subscriber.connect(broker.url, 'argos/json-node/#');
  const p = await pipeline('json-node', { stats: true });
  try {
    for (let i = 0; i < 5; i++) p.raise();
    await sub.waitFor((s) => s.on('argos/json-node/alert').length === 5, 'five alerts');
    const got = sub.on('argos/json-node/alert');
    assert.ok(got.every((m) => m.qos === 1 && !m.retain));
    const stored = p.store.listAlerts(0, 100).reverse();
    assert.deepEqual(
      got.map((m) => JSON.parse(m.payload) as Alert),
      stored,
    );
    const first = JSON.parse(got[0].payload) as Record<string, unknown>;
    assert.deepEqual(Object.keys(first), ['id', 'node', 'time', 'kind', 'process', 'program', 'model', 'priority', 'score', 'threshold', 'window', 'why', 'count']);
    assert.deepEqual(first.process, { pid: 1000, exec_id: 'exec-0', binary: '/usr/bin/tool0', arguments: '--run 0' });
    assert.deepEqual(first.window, { seq: 2, length: 24 });
    await sub.waitFor((s) => s.on('argos/json-node/stats').length > 0, 'stats');
    const stats = JSON.parse(sub.on('argos/json-node/stats')[0].payload) as { node: string; counters: { alerts: number }; outbox: number };
    assert.equal(stats.node, 'json-node');
    assert.equal(typeof stats.counters.alerts, 'number');
    assert.equal(await p.loop.drain(5000), true);
  } finally {
    await p.stop();
    await sub.close();
  }
});

void test('outage: alerts raised while the broker is down all arrive once it is back, none twice by id', async () => {
  const sub = await Subscriber.connect(broker.url, 'argos/outage-node/alert', 'outage-subscriber');
  const p = await pipeline('outage-node');
  try {
    await waitFor(() => p.mqtt.connected, 'connected');
    for (let i = 0; i < 20; i++) p.raise();
    await sub.waitFor((s) => s.messages.length >= 10, 'some alerts before the outage');
    await broker.stop();
    for (let i = 0; i < 30; i++) {
      p.raise();
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => !p.mqtt.connected, 'disconnect noticed');
    assert.ok(p.store.outboxDepth('mqtt') > 0, 'alerts wait in the outbox');
    await broker.start();
    for (let i = 0; i < 10; i++) p.raise();
    const stored = p.store.listAlerts(0, 1000).map((a) => a.id);
    assert.equal(stored.length, 60);
    await sub
      .waitFor((s) => new Set(s.messages.map((m) => (JSON.parse(m.payload) as Alert).id)).size === 60, 'every alert', 30_000)
      .catch((e: unknown) => {
        const got = new Set(sub.messages.map((m) => (JSON.parse(m.payload) as Alert).id));
        throw new Error(`${(e as Error).message}: received ${got.size} of 60 (${sub.messages.length} messages), outbox ${p.store.outboxDepth('mqtt')}, missing ${stored.filter((id) => !got.has(id)).length}; broker: ${broker.log}`);
      });
    const ids = sub.messages.map((m) => (JSON.parse(m.payload) as Alert).id);
    assert.deepEqual([...new Set(ids)].sort(), [...stored].sort());
    assert.ok(ids.length - 60 <= p.mqtt.maxInFlight, `duplicates bounded by the messages in flight (${ids.length - 60})`);
    assert.equal(await p.loop.drain(5000), true);
    assert.ok(p.mqtt.connections >= 2, 'reconnected');
  } finally {
    await p.stop();
    await sub.close();
  }
});

void test('username and password: accepted when right, refused when wrong, never logged', async () => {
  execFileSync('mosquitto_passwd', ['-b', '-c', join(dir, 'passwd'), 'argos', 's3cret-pw']);
  const secure = await Mosquitto.start({ extraConfig: ['allow_anonymous false', `password_file ${join(dir, 'passwd')}`] });
  let logs = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs += chunk.toString();
      done();
    },
  });
  const log = pino({ level: 'debug' }, sink);
  const wrong = new MqttReporter({ url: `mqtt://argos:wrong-pw@127.0.0.1:${secure.port}`, username: 'argos', password: 'wrong-pw', prefix: 'argos', node: 'auth', log, backoff: fast });
  const right = new MqttReporter({ url: secure.url, username: 'argos', password: 's3cret-pw', prefix: 'argos', node: 'auth', log, backoff: fast });
  try {
    await wrong.start();
    await waitFor(() => logs.includes('will reconnect'), 'a refused connection');
    assert.equal(wrong.connected, false);
    await right.start();
    await waitFor(() => right.connected, 'connected with the right password');
    assert.ok(!logs.includes('wrong-pw') && !logs.includes('s3cret-pw'), 'no password in the logs');
  } finally {
    await wrong.stop();
    await right.stop();
    await secure.dispose();
  }
});
