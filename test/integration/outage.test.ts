// Long outages and flapping links, against real servers on 127.0.0.1:
// - an ntfy server (a local HTTP server that checks ntfy's API) answering 429 and 500 for an
//   hour of simulated time (FakeTime drives the delivery loop's waits) while an alert comes
//   every minute: few requests (backoff, Retry-After), the oldest message first, and once the
//   server is back every alert arrives once, in order;
// - a broker whose connections are cut 100 times in a few seconds (a TCP proxy in between)
//   while alerts keep coming: every alert arrives, first arrivals in order, few duplicates,
//   and no sockets or timers pile up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { createConnection, createServer as createTcpServer, type Socket, type AddressInfo } from 'node:net';
import { silentLogger } from '../../src/core/logger.js';
import { NtfyReporter } from '../../src/reporters/ntfy.js';
import { MqttReporter } from '../../src/reporters/mqtt.js';
import { OutboxLoop } from '../../src/reporters/outbox.js';
import { SqliteStore } from '../../src/store/store.js';
import { makeAlert } from '../helpers/alerts.js';
import { FakeTime, waitFor } from '../helpers/fake-time.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Subscriber } from '../helpers/mqtt-subscriber.js';
import type { Alert } from '../../src/core/alert.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

void test('ntfy answering 429 and 500 for an hour: bounded retries, order kept, every alert once when it is back', async (t) => {
  const time = new FakeTime(Date.UTC(2025, 0, 1, 8));
  const start = time.now();
  const answers: { alert: string; status: number }[] = [];
  let n = 0;
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      // ntfy's publishing API: POST /<topic>, a text body, Title/Priority/Tags headers.
      const apiOk = req.method === 'POST' && req.url === '/argos-alerts' && typeof req.headers.title === 'string' && /^[1-5]$/.test(String(req.headers.priority)) && body.length > 0;
      const alert = /^Alert: (\S+)$/m.exec(body)?.[1] ?? '?';
      let status = 200;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (!apiOk) status = 400;
      else if (time.now() < start + HOUR) {
        status = n++ % 2 === 0 ? 429 : 500;
        if (status === 429) headers['retry-after'] = n % 4 === 1 ? '30' : new Date(time.now() + 90_000).toUTCString();
      }
      answers.push({ alert, status });
      res.writeHead(status, headers).end(status === 200 ? '{"id":"x"}' : '{"error":"busy"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const store = new SqliteStore({ path: ':memory:', clock: time });
  await store.start();
  let inflight = 0;
  const ntfy = new NtfyReporter({
    server: url,
    topic: 'argos-alerts',
    log: silentLogger(),
    clock: time,
    fetch: async (input, init) => {
      inflight++;
      try {
        return await fetch(input, init);
      } finally {
        inflight--;
      }
    },
  });
  const loop = new OutboxLoop({ store, reporter: ntfy, log: silentLogger(), timers: time });
  t.after(async () => {
    await loop.stop();
    await ntfy.stop();
    await store.stop();
  });
  await ntfy.start();
  await loop.start();
  /** Lets the loop finish what real I/O it started (an HTTP request) before time moves on. */
  const settle = (): Promise<void> => waitFor(() => inflight === 0, 'the request in flight to end');
  const ids: string[] = [];
  for (let minute = 0; minute < 60; minute++) {
    const a = makeAlert(minute, time.now());
    ids.push(a.id);
    store.saveAlert(a, ['ntfy']);
    loop.wake();
    for (let s = 0; s < 60; s++) {
      await settle();
      time.advance(1000);
    }
  }
  const duringOutage = answers.length;
  // Backoff (1 s doubling to 5 min) and Retry-After keep it to a few dozen requests an hour.
  assert.ok(duringOutage <= 30, `${duringOutage} requests during the hour`);
  assert.ok(duringOutage >= 10, 'it kept trying');
  assert.ok(
    answers.every((a) => a.alert === ids[0]),
    'only the oldest message is tried while the server refuses: order kept',
  );
  assert.equal(store.outboxDepth('ntfy'), 60, 'nothing lost, nothing dropped');

  // The server is back: within the longest backoff step everything goes, once and in order.
  for (let s = 0; s < 10 * 60 && store.outboxDepth('ntfy') > 0; s++) {
    await settle();
    time.advance(1000);
  }
  await waitFor(() => store.outboxDepth('ntfy') === 0, 'everything delivered');
  const delivered = answers.filter((a) => a.status === 200).map((a) => a.alert);
  assert.deepEqual(delivered, ids, 'each alert once, in order');
  assert.equal(
    answers.filter((a) => a.status === 400).length,
    0,
    'every request followed the API',
  );
  t.diagnostic(`ntfy outage of 1 h simulated: ${duringOutage} requests while refused, ${delivered.length} alerts delivered once each after`);
});

/** A TCP proxy to the broker that can cut every connection through it. */
async function cuttingProxy(targetPort: number): Promise<{ port: number; cut: () => number; close: () => Promise<void> }> {
  const live = new Set<Socket>();
  const server = createTcpServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      live.add(s);
      s.on('close', () => live.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      const n = live.size;
      for (const s of live) s.destroy();
      return n;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of live) s.destroy();
        server.close(() => r());
      }),
  };
}

function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

void test('broker flapping: 100 disconnects while alerts keep coming; all arrive, in order, few duplicates, nothing piles up', async (t) => {
  const broker = await Mosquitto.start();
  const proxy = await cuttingProxy(broker.port);
  const sub = await Subscriber.connect(broker.url, 'argos/flap-node/alert');
  t.after(async () => {
    await sub.close();
    await proxy.close();
    await broker.dispose();
  });
  const store = new SqliteStore({ path: ':memory:' });
  await store.start();
  const mqtt = new MqttReporter({ url: `mqtt://127.0.0.1:${proxy.port}`, prefix: 'argos', node: 'flap-node', log: silentLogger(), backoff: { initialMs: 20, maxMs: 100 }, connectTimeoutMs: 2000, ackTimeoutMs: 2000 });
  const loop = new OutboxLoop({ store, reporter: mqtt, log: silentLogger(), backoff: { initialMs: 20, maxMs: 100 } });
  t.after(async () => {
    await loop.stop();
    await mqtt.stop();
    await store.stop();
  });
  await mqtt.start();
  await loop.start();
  await waitFor(() => mqtt.connected, 'first connection');
  const baseline = resources();

  const ids: string[] = [];
  let cuts = 0;
  for (let round = 0; cuts < 100 && round < 300; round++) {
    for (let i = 0; i < 5; i++) {
      const a = makeAlert(ids.length, Date.now());
      ids.push(a.id);
      store.saveAlert(a, ['mqtt']);
    }
    loop.wake();
    await waitFor(() => mqtt.connected, `connected again before cut ${round + 1}`, 10_000);
    await new Promise((r) => setTimeout(r, 20 + (round % 5) * 10));
    if (proxy.cut() > 0) cuts++;
  }
  assert.equal(cuts, 100, '100 disconnects');
  await waitFor(() => store.outboxDepth('mqtt') === 0, 'everything delivered', 30_000);
  const received = (): string[] => sub.messages.map((m) => (JSON.parse(m.payload) as Alert).id);
  await waitFor(() => new Set(received()).size === ids.length, 'every alert at the subscriber', 15_000);
  const firsts = [...new Set(received())];
  assert.deepEqual(firsts, ids, 'first arrivals in the order the alerts were stored');
  const duplicates = received().length - ids.length;
  // Slow start after each reconnect: at most the few messages of the window in flight per cut
  // (a full window of 16 per cut before it; about 3 per alert in this test).
  assert.ok(duplicates <= cuts * 8, `${duplicates} duplicates`);
  // A cut during a connection's handshake ends a connection that never counted as made.
  await waitFor(() => mqtt.connections >= cuts * 0.9 && mqtt.connected, `a new connection after the cuts (${mqtt.connections} for ${cuts} cuts)`);

  // Nothing piled up: as many sockets and timers as before the flapping (give or take one).
  const now = resources();
  for (const kind of ['TCPSocketWrap', 'Timeout']) {
    assert.ok((now[kind] ?? 0) <= (baseline[kind] ?? 0) + 2, `${kind}: ${baseline[kind] ?? 0} before, ${now[kind] ?? 0} after`);
  }
  t.diagnostic(`broker flapping: ${cuts} disconnects, ${ids.length} alerts, ${duplicates} duplicates, ${mqtt.connections} connections`);
});
