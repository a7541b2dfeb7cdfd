// Benchmark: the fleet hub at scale. A fleet simulator plays 10,000 devices (node ids spread
// over a few MQTT connections) through a real mosquitto to two hub processes on one MQTT 5
// shared subscription, storing into a real PostgreSQL (all on 127.0.0.1, started here).
//
//   node --import tsx test/bench/hub.ts [--json] [--devices N] [--rate ALERTS_PER_S]
//        [--seconds S] [--publishers N] [--hubs N] [--connections N]
//
// First every device says it is online and sends its state (not timed). Then alerts are
// published at a steady rate, round-robin over the devices, QoS 1, each with its `time` set
// to the moment it was handed to the publisher. Each hub times every alert it commits from
// that moment (test/bench/hub-instance.ts), so the latency is publish → broker → hub → stored
// in PostgreSQL. Reported: alerts stored per second (stored / time from the first publish to
// the last commit), p50/p99/max latency, and whether every alert was stored exactly once.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { Mosquitto, freePort } from '../helpers/mosquitto.js';
import { Postgres } from '../helpers/postgres.js';
import { makeAlert } from '../helpers/alerts.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TOKEN = 'bench-token-0123456789abcdef';

export interface HubBenchOptions {
  devices?: number;
  rate?: number;
  seconds?: number;
  publishers?: number;
  hubs?: number;
  connections?: number;
}

export interface HubBenchResult {
  alerts_per_s: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  published: number;
  stored: number;
  /** Published alerts missing from the database, and ids stored more than once (both must be 0). */
  missing: number;
  timed: number;
  /** Alerts each hub stored (the shared subscription's split). */
  per_hub: number[];
  publish_rate_achieved: number;
  devices: number;
  rate: number;
  seconds: number;
  publishers: number;
  hubs: number;
  connections_per_hub: number;
}

interface HubChild {
  child: ChildProcess;
  latencies: number[];
  ready: Promise<void>;
  exited: Promise<void>;
  stderr: () => string;
}

function startHub(i: number, env: NodeJS.ProcessEnv): HubChild {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/hub-instance.ts'], { cwd: ROOT, env: { ...process.env, ...env, ARGOS_HUB_INSTANCE: `bench-${i}` }, stdio: ['ignore', 'pipe', 'pipe'] });
  const latencies: number[] = [];
  let err = '';
  let buf = '';
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let n: number;
    while ((n = buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(buf.slice(0, n)) as { event: string; ms?: number[] };
      buf = buf.slice(n + 1);
      if (line.event === 'ready') onReady();
      else if (line.ms) for (const x of line.ms) latencies.push(x);
    }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, latencies, ready: Promise.race([ready, exited.then(() => Promise.reject(new Error(`hub ${i} exited: ${err}`)))]), exited, stderr: () => err };
}

const quantile = (sorted: number[], q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connectPublishers(url: string, n: number): Promise<MqttClient[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => mqtt.connectAsync(url, { clientId: `fleet-sim-${i}`, protocolVersion: 4, clean: true, reconnectPeriod: 0 })));
}

/** Publishes `fn(i)` for i in [0, total) at `rate` per second, QoS 1; resolves when every PUBACK came. */
async function paced(clients: MqttClient[], total: number, rate: number, fn: (i: number) => { topic: string; payload: string; stamp?: boolean }): Promise<{ seconds: number }> {
  const t0 = performance.now();
  let sent = 0;
  let acked = 0;
  let failed = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    // At most 20,000 unacknowledged at once: the simulator's memory stays bounded if the broker lags.
    while (sent < due && sent - acked < 20_000) {
      const m = fn(sent);
      clients[sent % clients.length].publish(m.topic, m.payload, { qos: 1 }, (e) => {
        acked++;
        if (e) failed++;
      });
      sent++;
    }
    await sleep(2);
  }
  while (acked < total) await sleep(5);
  if (failed > 0) throw new Error(`${failed} publishes failed`);
  return { seconds: (performance.now() - t0) / 1000 };
}

export async function benchHub(o: HubBenchOptions = {}): Promise<HubBenchResult> {
  const devices = o.devices ?? 10_000;
  const rate = o.rate ?? 6000;
  const seconds = o.seconds ?? 10;
  const publishers = o.publishers ?? 4;
  const hubCount = o.hubs ?? 2;
  const connections = o.connections ?? 32;
  // A broker tuned as docs/hub.md says: no per-client queue limit that would drop QoS 1 messages
  // for a busy hub connection, TCP_NODELAY for small messages.
  const broker = await Mosquitto.start({ extraConfig: ['max_queued_messages 0', 'max_inflight_messages 0', 'set_tcp_nodelay true'] });
  const db = await Postgres.start();
  const hubs: HubChild[] = [];
  const clients: MqttClient[] = [];
  try {
    const env = { ARGOS_MQTT_URL: broker.url, ARGOS_HUB_TOKEN: TOKEN, ARGOS_HUB_DATABASE_URL: db.url, ARGOS_HUB_CONNECTIONS: String(connections), ORT_DISABLE_TELEMETRY: '1' };
    for (let i = 0; i < hubCount; i++) hubs.push(startHub(i, { ...env, ARGOS_HUB_HTTP: `127.0.0.1:${await freePort()}` }));
    await Promise.all(hubs.map((h) => h.ready));
    clients.push(...(await connectPublishers(broker.url, publishers)));
    const node = (i: number) => `sim-${String(i % devices).padStart(5, '0')}`;
    // Every device comes online and tells its state (not timed).
    await paced(clients, devices * 2, 50_000, (i) =>
      i < devices
        ? { topic: `argos/${node(i)}/status`, payload: 'online' }
        : { topic: `argos/${node(i)}/state`, payload: JSON.stringify({ node: node(i), time: new Date().toISOString(), state: 'detecting', model: { name: 'device', version: 1 }, programs: 12 }) },
    );
    const total = Math.round(rate * seconds);
    const template = makeAlert(0, Date.now(), { why: [{ calls: 'openat read mmap mprotect', surprisal: 7.1 }, { calls: 'socket connect sendto', surprisal: 5.2 }] });
    const published = await paced(clients, total, rate, (i) => {
      const nodeId = node(i);
      const alert = { ...template, id: `bench-${String(i).padStart(8, '0')}`, node: nodeId, time: new Date().toISOString(), process: { ...template.process, pid: 1000 + (i % 30000) } };
      return { topic: `argos/${nodeId}/alert`, payload: JSON.stringify(alert) };
    });
    const deadline = Date.now() + 120_000;
    const timed = () => hubs.reduce((s, h) => s + h.latencies.length, 0);
    while (timed() < total && Date.now() < deadline) await sleep(50);
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    const { rows } = await sql.query<{ n: number; distinct_ids: number }>("SELECT COUNT(*)::int AS n, COUNT(DISTINCT id)::int AS distinct_ids FROM hub_alerts WHERE id LIKE 'bench-%'");
    await sql.end();
    const all = hubs.flatMap((h) => h.latencies).sort((a, b) => a - b);
    // Throughput: alerts stored over the time from the first publish to the last commit.
    const span = published.seconds + Math.max(0, all[all.length - 1] ?? 0) / 1000;
    const r2 = (x: number) => Math.round(x * 100) / 100;
    return {
      alerts_per_s: Math.round(rows[0].n / span),
      p50_ms: r2(quantile(all, 0.5)),
      p99_ms: r2(quantile(all, 0.99)),
      max_ms: r2(all[all.length - 1] ?? NaN),
      published: total,
      stored: rows[0].n,
      missing: total - rows[0].distinct_ids + (rows[0].n - rows[0].distinct_ids),
      timed: all.length,
      per_hub: hubs.map((h) => h.latencies.length),
      publish_rate_achieved: Math.round(total / published.seconds),
      devices,
      rate,
      seconds,
      publishers,
      hubs: hubCount,
      connections_per_hub: connections,
    };
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    for (const h of hubs) h.child.kill('SIGTERM');
    await Promise.all(hubs.map((h) => Promise.race([h.exited, sleep(15_000).then(() => h.child.kill('SIGKILL'))])));
    await db.dispose();
    await broker.dispose();
  }
}

function arg(argv: string[], name: string): number | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} needs a positive number`);
  return v;
}

async function main(argv: string[]): Promise<void> {
  const r = await benchHub({
    devices: arg(argv, '--devices'),
    rate: arg(argv, '--rate'),
    seconds: arg(argv, '--seconds'),
    publishers: arg(argv, '--publishers'),
    hubs: arg(argv, '--hubs'),
    connections: arg(argv, '--connections'),
  });
  if (argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  process.stdout.write(
    `${r.devices} devices over ${r.publishers} connections → mosquitto → ${r.hubs} hubs × ${r.connections_per_hub} connections → PostgreSQL\n` +
      `offered ${r.rate} alerts/s for ${r.seconds} s (published at ${r.publish_rate_achieved}/s)\n` +
      `stored ${r.alerts_per_s} alerts/s (goal ≥ 5000); latency publish → stored p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms (goal ≤ 200), max ${r.max_ms} ms\n` +
      `${r.stored} stored of ${r.published}, ${r.missing} missing or doubled; split between hubs ${r.per_hub.join(' / ')}\n`,
  );
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`hub bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
