import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, register as globalRegistry } from 'prom-client';
import { Counters } from '../../src/core/counters.js';
import { silentLogger } from '../../src/core/logger.js';
import { HealthServer, parseListenAddress } from '../../src/health/server.js';
import { COUNTER_METRICS, createMetrics } from '../../src/health/metrics.js';
import { freshnessProbe, runProbes, type HealthProbe } from '../../src/health/probe.js';

function started(t: { after(fn: () => Promise<void>): void }, probes: HealthProbe[], registry = new Registry()) {
  const server = new HealthServer({ address: '127.0.0.1:0', registry, probes, log: silentLogger(), checkTimeoutMs: 200 });
  t.after(() => server.stop());
  return server;
}

async function get(server: HealthServer, path: string, method = 'GET') {
  const a = server.address();
  assert.ok(a, 'server is listening');
  const res = await fetch(`http://127.0.0.1:${a.port}${path}`, { method, signal: AbortSignal.timeout(5000) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

const probe = (name: string, ok: boolean, critical = false): HealthProbe => ({ name, critical, check: () => ({ ok, detail: ok ? 'fine' : 'broken' }) });

void test('/healthz is 200 when every check passes, 503 naming the failing one otherwise', async (t) => {
  let brokerUp = true;
  const probes: HealthProbe[] = [
    probe('source', true, true),
    probe('model', true, true),
    { name: 'mqtt', check: () => ({ ok: brokerUp, detail: brokerUp ? 'connected' : 'broker unreachable' }) },
  ];
  const server = started(t, probes);
  await server.start();
  let r = await get(server, '/healthz');
  assert.equal(r.status, 200);
  assert.match(r.type, /application\/json/);
  const ok = JSON.parse(r.body) as { status: string; checks: Record<string, { ok: boolean; critical: boolean }>; version: string };
  assert.equal(ok.status, 'ok');
  assert.deepEqual(Object.keys(ok.checks), ['source', 'model', 'mqtt']);
  assert.equal(ok.checks.source.critical, true);

  brokerUp = false;
  r = await get(server, '/healthz');
  assert.equal(r.status, 503);
  const bad = JSON.parse(r.body) as { status: string; checks: Record<string, { ok: boolean; detail: string }> };
  assert.equal(bad.status, 'degraded');
  assert.deepEqual(bad.checks.mqtt, { ok: false, detail: 'broker unreachable', critical: false });
  // A broker outage does not make the process dead: /livez looks at critical parts only.
  r = await get(server, '/livez');
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys((JSON.parse(r.body) as { checks: object }).checks), ['source', 'model']);
});

void test('a throwing or hanging check fails alone, within the timeout', async () => {
  const report = await runProbes(
    [
      { name: 'db', critical: true, check: () => Promise.reject(new Error('SQLITE_READONLY')) },
      { name: 'slow', check: () => new Promise(() => {}) },
      probe('ok', true),
    ],
    100,
  );
  assert.equal(report.status, 'failing');
  assert.equal(report.checks.db.detail, 'check failed: SQLITE_READONLY');
  assert.equal(report.checks.slow.detail, 'no answer within 100 ms');
  assert.equal(report.checks.ok.ok, true);
});

void test('freshness probe: fine while recent, failing when stale or never seen', () => {
  let now = 100_000;
  let last: number | undefined = undefined;
  const p = freshnessProbe({ name: 'source', lastAt: () => last, maxAgeMs: 30_000, clock: { now: () => now, monotonic: () => now }, what: 'event' });
  assert.deepEqual(p.check(), { ok: false, detail: 'no event yet' });
  last = 95_000;
  assert.deepEqual(p.check(), { ok: true, detail: 'last event 5 s ago' });
  now = 200_000;
  assert.deepEqual(p.check(), { ok: false, detail: 'no event for 105 s (limit 30 s)' });
});

void test('/metrics serves the counters, gauges and latency histogram from its own registry', async (t) => {
  const counters = new Counters();
  const registry = new Registry();
  let outbox = { mqtt: 3, ntfy: 0 };
  const metrics = createMetrics({
    registry,
    counters,
    node: 'pi-7',
    trackedProcesses: () => 12,
    queueDepth: () => 5,
    outboxDepth: async () => outbox,
  });
  const server = started(t, [], registry);
  await server.start();
  counters.events = 1000;
  counters.malformed = 2;
  counters.sourceRestarts = 1;
  counters.shed = 7;
  metrics.observeClassification(0.003, 64);
  metrics.observeClassification(0.2, 8);
  let r = await get(server, '/metrics');
  assert.equal(r.status, 200);
  assert.match(r.type, /^text\/plain; version=0\.0\.4/);
  const line = (name: string) => r.body.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  assert.equal(line('argos_events_total'), 'argos_events_total 1000');
  assert.equal(line('argos_malformed_events_total'), 'argos_malformed_events_total 2');
  assert.equal(line('argos_source_restarts_total'), 'argos_source_restarts_total 1');
  assert.equal(line('argos_windows_shed_total'), 'argos_windows_shed_total 7');
  assert.equal(line('argos_tracked_processes'), 'argos_tracked_processes 12');
  assert.equal(line('argos_classifier_queue_depth'), 'argos_classifier_queue_depth 5');
  assert.match(r.body, /argos_outbox_depth\{reporter="mqtt"\} 3/);
  assert.match(r.body, /argos_classification_seconds_bucket\{le="0.005"\} 1\n/);
  assert.match(r.body, /argos_classification_seconds_count 2\n/);
  assert.match(r.body, /argos_classification_batch_windows_sum 72\n/);
  assert.match(r.body, /argos_info\{version="[^"]+",runtime="node-[^"]+",node="pi-7"\} 1/);
  assert.match(r.body, /argos_process_resident_memory_bytes \d+/);

  // Values are read at scrape time.
  counters.events = 1500;
  outbox = { mqtt: 0, ntfy: 0 };
  r = await get(server, '/metrics');
  assert.equal(line('argos_events_total'), 'argos_events_total 1500');
  assert.match(r.body, /argos_outbox_depth\{reporter="mqtt"\} 0/);
  assert.equal(await globalRegistry.getSingleMetricAsString('argos_events_total').catch(() => 'absent'), 'absent', 'the global registry is untouched');
});

void test('every Counters field is exported once', () => {
  const fields = Object.keys(new Counters()).sort();
  assert.deepEqual(COUNTER_METRICS.map((m) => m.key).sort(), fields);
  assert.equal(new Set(COUNTER_METRICS.map((m) => m.name)).size, COUNTER_METRICS.length);
});

void test('other paths are 404, other methods 405, HEAD has no body', async (t) => {
  const server = started(t, [probe('x', true)]);
  await server.start();
  assert.equal((await get(server, '/')).status, 404);
  const post = await get(server, '/healthz', 'POST');
  assert.equal(post.status, 405);
  const head = await get(server, '/healthz', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
});

void test('empty address = off; a taken port is a readable error', async (t) => {
  const off = new HealthServer({ address: '', registry: new Registry(), probes: [], log: silentLogger() });
  await off.start();
  assert.equal(off.address(), undefined);
  await off.stop();

  const first = started(t, []);
  await first.start();
  const port = first.address()!.port;
  const second = new HealthServer({ address: `127.0.0.1:${port}`, registry: new Registry(), probes: [], log: silentLogger() });
  await assert.rejects(second.start(), /cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\): another process uses it; set ARGOS_HTTP_ADDRESS/);
});

void test('listen addresses: IPv4, IPv6 in brackets, names; junk is refused', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListenAddress('[::1]:9464'), { host: '::1', port: 9464 });
  assert.deepEqual(parseListenAddress('localhost:80'), { host: 'localhost', port: 80 });
  assert.throws(() => parseListenAddress('9464'), /is not HOST:PORT/);
  assert.throws(() => parseListenAddress('h:99999'), /is not HOST:PORT/);
});
