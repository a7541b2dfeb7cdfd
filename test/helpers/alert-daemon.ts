// A small stand-in for the daemon's reporting half, run as a child process by tests:
// store + alerter + MQTT reporter + outbox loop. Prints one JSON line per event:
//   {"event":"ready"}                      MQTT connected (status online published)
//   {"event":"alert","id":"…"}             an alert was committed to the database
//   {"event":"drained","pending":0}        the outbox is empty (after --drain)
// Usage: node --import tsx test/helpers/alert-daemon.ts --db PATH --url URL [--node N]
//        [--alerts N] [--interval MS] [--drain]
// SIGTERM: stop cleanly (offline published). SIGKILL it to test crashes and the Last Will.
import { parseArgs } from 'node:util';
import { Alerter } from '../../src/alerter/alerter.js';
import { Counters } from '../../src/core/counters.js';
import { silentLogger } from '../../src/core/logger.js';
import { MqttReporter } from '../../src/reporters/mqtt.js';
import { OutboxLoop } from '../../src/reporters/outbox.js';
import { SqliteStore } from '../../src/store/store.js';
import { makeProcess } from './alerts.js';

const { values: a } = parseArgs({
  options: {
    db: { type: 'string' },
    url: { type: 'string' },
    node: { type: 'string', default: 'edge-1' },
    alerts: { type: 'string', default: '0' },
    interval: { type: 'string', default: '5' },
    drain: { type: 'boolean', default: false },
  },
});
const say = (o: object): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};
const log = silentLogger();
const counters = new Counters();
const store = new SqliteStore({ path: a.db ?? 'argos.db' });
const mqtt = new MqttReporter({ url: a.url ?? 'mqtt://127.0.0.1:1883', prefix: 'argos', node: a.node ?? 'edge-1', log, backoff: { initialMs: 100, maxMs: 1000 } });
const loop = new OutboxLoop({ store, reporter: mqtt, log, backoff: { initialMs: 100, maxMs: 1000 } });
const alerter = new Alerter({
  store,
  reporters: ['mqtt'],
  node: a.node ?? 'edge-1',
  model: { name: 'test-model', threshold: 0.5 },
  throttleWindowMs: 60_000,
  throttleMax: 100,
  counters,
  log,
  onQueued: (alert) => {
    if (alert.count === 1) say({ event: 'alert', id: alert.id });
    loop.wake();
  },
});
mqtt.onReady(() => say({ event: 'ready' }));

await store.start();
await mqtt.start();
await loop.start();
await alerter.start();

const total = Number(a.alerts);
let n = 0;
const tick = (): void => {
  if (n >= total) return;
  // Distinct binaries: each verdict is a new alert.
  alerter.verdict({ window: { process: makeProcess(n++), tokens: new Int32Array(16), seq: 0, final: false, at: Date.now() }, score: 0.9 });
  setTimeout(tick, Number(a.interval));
};
tick();

if (a.drain) {
  const drained = await loop.drain(30_000);
  say({ event: 'drained', ok: drained, pending: store.outboxDepth() });
}

process.once('SIGTERM', () => {
  void (async () => {
    await alerter.stop();
    await loop.stop();
    await mqtt.stop();
    await store.stop();
    process.exit(0);
  })();
});
