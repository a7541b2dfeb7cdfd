import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NTFY_MAX_BODY, ntfyRequest, retryAfterMs } from '../../src/reporters/ntfy.js';
import { anomalyPriority } from '../../src/core/alert.js';
import { safeText, topicSegment } from '../../src/core/sanitize.js';
import { topicFor } from '../../src/core/mqtt.js';
import { makeAlert } from '../helpers/alerts.js';

void test('host strings lose control characters and bidi overrides and are capped', () => {
  assert.equal(safeText('ls\u001b[31m\r\nfake line\u202eevil\u0000', 100), 'ls [31m  fake line evil ');
  assert.equal(safeText('abcdef', 4), 'abc…');
  assert.equal(safeText('ok', 4), 'ok');
});

void test('node ids become one safe topic level', () => {
  assert.equal(topicSegment('edge/1+#x y\n'), 'edge_1__x_y_');
  assert.equal(topicSegment(''), 'unknown');
  assert.equal(topicSegment('n'.repeat(500)).length, 64);
  assert.equal(topicFor('site/argos/', 'a/b', 'alert'), 'site/argos/a_b/alert');
  assert.throws(() => topicFor('argos/#', 'n', 'alert'), /\+ and #/);
});

void test('priority grows with the score above the threshold and with repeats', () => {
  assert.equal(anomalyPriority(0.55, 0.5, 1), 3);
  assert.equal(anomalyPriority(0.62, 0.5, 1), 4);
  assert.equal(anomalyPriority(0.8, 0.5, 1), 5);
  assert.equal(anomalyPriority(0.55, 0.5, 12), 4);
});

void test('the request has the title, priority, tags, token and a safe body under 4 KiB', () => {
  const a = makeAlert(3, Date.UTC(2025, 0, 2), {
    node: 'edge-é1',
    score: 0.8,
    count: 4,
    pod: { namespace: 'shop', name: 'cart\nInjected: yes', container: 'app' },
    process: { pid: 42, exec_id: 'x1', binary: '/tmp/\u001b]0;pwned\u0007sh', arguments: `-c ${'A'.repeat(10_000)}` },
  });
  const r = ntfyRequest('https://ntfy.example/', 'alerts room', a, 's3cret');
  assert.equal(r.url, 'https://ntfy.example/alerts%20room');
  assert.deepEqual(r.headers, {
    'Content-Type': 'text/plain; charset=utf-8',
    Title: 'Argos: anomaly on edge-?1 (x4)',
    Priority: '5',
    Tags: 'rotating_light,argos',
    Authorization: 'Bearer s3cret',
  });
  assert.ok(Buffer.byteLength(r.body) <= NTFY_MAX_BODY, `body is ${Buffer.byteLength(r.body)} bytes`);
  assert.doesNotMatch(r.body, /[\u0000-\u0008\u000b-\u001f\u007f]/, 'no control characters besides newlines');
  const lines = r.body.split('\n');
  assert.deepEqual(lines.slice(0, 8), [
    'Anomalous process on edge-é1',
    'Binary: /tmp/ ]0;pwned sh',
    'PID: 42  exec_id: x1',
    'Pod: shop/cart Injected: yes (container app)',
    'Score: 0.8000 (threshold 0.5000, model test-model)',
    'Windows: 4',
    'Time: 2025-01-02T00:00:00.000Z',
    `Alert: ${a.id}`,
  ]);
  assert.match(lines[8], /^Arguments: -c AAAA+…$/);
  assert.equal(lines.length, 9, 'the injected newline did not make a line of its own');
  const plain = ntfyRequest('https://ntfy.sh', 't', makeAlert(1, 0));
  assert.equal(plain.headers.Authorization, undefined);
  assert.doesNotMatch(plain.body, /Pod:/);
});

void test('Retry-After is read as seconds or as an HTTP date', () => {
  const now = Date.UTC(2025, 0, 1, 0, 0, 0);
  assert.equal(retryAfterMs('30', now), 30_000);
  assert.equal(retryAfterMs('Wed, 01 Jan 2025 00:00:10 GMT', now), 10_000);
  assert.equal(retryAfterMs(null, now), undefined);
  assert.equal(retryAfterMs('soon', now), undefined);
});
