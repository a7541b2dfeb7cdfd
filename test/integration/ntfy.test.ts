// The Ntfy reporter and its outbox loop against a local HTTP server that checks every
// request and answers 429 or 500 on demand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../src/core/logger.js';
import { NtfyReporter } from '../../src/reporters/ntfy.js';
import { OutboxLoop } from '../../src/reporters/outbox.js';
import { SqliteStore } from '../../src/store/store.js';
import { makeAlert } from '../helpers/alerts.js';
import { waitFor } from '../helpers/fake-time.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

/** Answers each request with the next planned status (then 200). */
async function ntfyServer(plan: { status: number; retryAfter?: string }[]) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, at: Date.now() });
      const next = plan.shift() ?? { status: 200 };
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (next.retryAfter !== undefined) headers['Retry-After'] = next.retryAfter;
      res.writeHead(next.status, headers);
      res.end(next.status === 200 ? '{"id":"x"}' : '{"error":"planned"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = (): Promise<void> => new Promise((r) => server.close(() => r()));
  return { seen, url, close };
}

async function pipeline(serverUrl: string, token?: string) {
  const store = new SqliteStore({ path: ':memory:' });
  await store.start();
  const ntfy = new NtfyReporter({ server: serverUrl, topic: 'argos-alerts', token, log: silentLogger() });
  const loop = new OutboxLoop({ store, reporter: ntfy, log: silentLogger(), backoff: { initialMs: 50, maxMs: 200, jitter: 0 }, maxRejects: 2 });
  await ntfy.start();
  await loop.start();
  const stop = async (): Promise<void> => {
    await loop.stop();
    await ntfy.stop();
    await store.stop();
  };
  return { store, loop, stop };
}

void test('a POST to <server>/<topic> with the headers and body the phone shows', async () => {
  const srv = await ntfyServer([]);
  const p = await pipeline(srv.url, 'tk_123');
  try {
    const a = makeAlert(1, Date.UTC(2025, 0, 1), { score: 0.9, pod: { namespace: 'shop', name: 'cart' } });
    p.store.saveAlert(a, ['ntfy']);
    p.loop.wake();
    assert.equal(await p.loop.drain(10_000), true);
    assert.equal(srv.seen.length, 1);
    const [r] = srv.seen;
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/argos-alerts');
    assert.equal(r.headers.title, 'Argos: anomaly on node-a');
    assert.equal(r.headers.priority, '5');
    assert.equal(r.headers.tags, 'rotating_light,argos');
    assert.equal(r.headers.authorization, 'Bearer tk_123');
    assert.match(r.body, /^Anomalous process on node-a\nBinary: \/usr\/bin\/tool1\n/);
    assert.match(r.body, /\nPod: shop\/cart\n/);
    assert.match(r.body, /\nScore: 0\.9000 \(threshold 0\.5000/);
    assert.ok(r.body.includes(`Alert: ${a.id}`));
  } finally {
    await p.stop();
    await srv.close();
  }
});

void test('429 waits for Retry-After, 500 backs off, and every alert is delivered once, in order', async () => {
  const srv = await ntfyServer([{ status: 429, retryAfter: '1' }, { status: 500 }, { status: 503 }]);
  const p = await pipeline(srv.url);
  try {
    for (let i = 0; i < 3; i++) p.store.saveAlert(makeAlert(i, Date.UTC(2025, 0, 1) + i), ['ntfy']);
    p.loop.wake();
    assert.equal(await p.loop.drain(15_000), true);
    const ids = srv.seen.map((s) => /Alert: (\S+)/.exec(s.body)?.[1]);
    assert.deepEqual(ids, ['alert-000000', 'alert-000000', 'alert-000000', 'alert-000000', 'alert-000001', 'alert-000002']);
    assert.ok(srv.seen[1].at - srv.seen[0].at >= 950, `waited ${srv.seen[1].at - srv.seen[0].at} ms after 429`);
    assert.equal(srv.seen.filter((s, i) => i >= 3).length, 3, 'delivered ones are not sent again');
  } finally {
    await p.stop();
    await srv.close();
  }
});

void test('a refused message (400) is retried, then kept as dead, and does not block the next', async () => {
  const srv = await ntfyServer([{ status: 400 }, { status: 400 }]);
  const p = await pipeline(srv.url);
  try {
    p.store.saveAlert(makeAlert(1, Date.UTC(2025, 0, 1)), ['ntfy']);
    p.store.saveAlert(makeAlert(2, Date.UTC(2025, 0, 1) + 1), ['ntfy']);
    p.loop.wake();
    assert.equal(await p.loop.drain(10_000), true);
    await waitFor(() => srv.seen.length === 3, 'three requests');
    assert.deepEqual(
      srv.seen.map((s) => /Alert: (\S+)/.exec(s.body)?.[1]),
      ['alert-000001', 'alert-000001', 'alert-000002'],
    );
  } finally {
    await p.stop();
    await srv.close();
  }
});

void test('an unreachable server is retried, not given up', async () => {
  const srv = await ntfyServer([]);
  const url = srv.url;
  await srv.close();
  const p = await pipeline(url);
  try {
    p.store.saveAlert(makeAlert(1, Date.UTC(2025, 0, 1)), ['ntfy']);
    p.loop.wake();
    assert.equal(await p.loop.drain(500), false);
    assert.equal(p.store.outboxDepth('ntfy'), 1);
  } finally {
    await p.stop();
  }
});
