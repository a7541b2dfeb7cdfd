// What the hub accepts from the fleet: the contract's shapes under a node's own topic; and
// what it refuses, with the reason it counts: foreign or forged topics, oversized payloads,
// non-JSON, wrong shapes, a payload that names another node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PAYLOAD_BYTES, parseTopic, readMessage } from '../../src/hub/ingest/messages.js';
import { makeAlert } from '../helpers/alerts.js';
import { newProgram, state, stats } from '../helpers/hub-store-cases.js';

const T = Date.UTC(2025, 0, 1);
const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const read = (topic: string, payload: unknown) => readMessage('argos', topic, buf(payload), T);

void test('topics: <prefix>/<node>/<kind> for the five kinds a node publishes, node ids as the daemon makes them', () => {
  assert.deepEqual(parseTopic('argos', 'argos/edge-1/alert'), { node: 'edge-1', kind: 'alert' });
  assert.deepEqual(parseTopic('argos/', 'argos/edge-1/cmd/result'), { node: 'edge-1', kind: 'cmd/result' });
  assert.deepEqual(parseTopic('fleet/a', 'fleet/a/n<b>/status'), { node: 'n<b>', kind: 'status' });
  for (const bad of ['other/edge-1/alert', 'argos/edge-1/cmd', 'argos//alert', 'argos/alert', 'argos/a b/alert', 'argos/a\u0007/alert', `argos/${'n'.repeat(65)}/alert`, 'argos/edge-1/alert/x']) {
    assert.ok('error' in parseTopic('argos', bad), bad);
  }
});

void test('alerts of both kinds are read as published; an alert from before kinds is read as an anomaly', () => {
  const a = makeAlert(1, T, { node: 'edge-1' });
  const r = read('argos/edge-1/alert', a);
  assert.ok(r.ok);
  assert.deepEqual(r.record, { kind: 'alert', node: 'edge-1', received: T, alert: a });
  const np = newProgram(1, T, 'edge-1');
  const r2 = read('argos/edge-1/alert', { ...np, extra: 'kept' });
  assert.ok(r2.ok && r2.record.kind === 'alert');
  assert.deepEqual(r2.record.alert, { ...np, extra: 'kept' });
  const { kind: _k, program: _p, priority: _pr, why: _w, ...old } = makeAlert(2, T, { node: 'edge-1', score: 3, threshold: 2 });
  const r3 = read('argos/edge-1/alert', old);
  assert.ok(r3.ok && r3.record.kind === 'alert' && r3.record.alert.kind === 'anomaly');
  assert.equal(r3.record.alert.program, '/usr/bin/tool2');
  assert.equal(r3.record.alert.priority, 5);
  assert.deepEqual(r3.record.alert.why, []);
});

void test('status, state, stats and command results', () => {
  assert.deepEqual(read('argos/e/status', 'online'), { ok: true, record: { kind: 'status', node: 'e', received: T, status: 'online' } });
  assert.equal(read('argos/e/status', 'ONLINE').ok, false);
  const s = state('e', T, 'learning', 0);
  assert.deepEqual(read('argos/e/state', s), { ok: true, record: { kind: 'state', node: 'e', received: T, state: s } });
  const st = stats('e', T, 5);
  assert.deepEqual(read('argos/e/stats', st), { ok: true, record: { kind: 'stats', node: 'e', received: T, stats: st } });
  const res = { id: 'c1', node: 'e', time: new Date(T).toISOString(), command: 'relearn', ok: true, state: s };
  assert.deepEqual(read('argos/e/cmd/result', res), { ok: true, record: { kind: 'result', node: 'e', received: T, result: res } });
});

void test('bad input is refused with a reason: topic, size, JSON, shape, node', () => {
  const a = makeAlert(1, T, { node: 'edge-1' });
  const reason = (r: ReturnType<typeof read>) => (r.ok ? 'accepted' : r.reason);
  assert.equal(reason(read('argos/edge 1/alert', a)), 'topic');
  assert.equal(reason(readMessage('argos', 'argos/edge-1/alert', Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20), T)), 'too_large');
  assert.equal(reason(read('argos/edge-1/alert', '{"id": ')), 'not_json');
  assert.equal(reason(read('argos/edge-1/alert', '<html>')), 'not_json');
  assert.equal(reason(read('argos/edge-1/alert', [a])), 'invalid');
  assert.equal(reason(read('argos/edge-1/alert', { ...a, count: 0 })), 'invalid');
  assert.equal(reason(read('argos/edge-1/alert', { ...a, time: 'yesterday' })), 'invalid');
  assert.equal(reason(read('argos/edge-1/alert', { ...a, id: 'a\u0000b' })), 'invalid');
  assert.equal(reason(read('argos/edge-1/alert', { ...a, process: { ...a.process, binary: 'x'.repeat(5000) } })), 'invalid');
  assert.equal(reason(read('argos/edge-1/state', { ...state('edge-1', T, 'learning'), state: 'hacked' })), 'invalid');
  assert.equal(reason(read('argos/edge-1/cmd/result', { id: null, node: 'edge-1', time: new Date(T).toISOString(), command: null, ok: false })), 'invalid');
  // A node may only speak for itself: the broker vouches for the topic, not the payload.
  assert.equal(reason(read('argos/edge-1/alert', { ...a, node: 'edge-2' })), 'node_mismatch');
  assert.equal(reason(read('argos/edge-1/stats', stats('edge-2', T, 1))), 'node_mismatch');
  // A node named with spaces publishes under its sanitised id: that is itself.
  assert.equal(reason(read('argos/edge_1/alert', { ...a, node: 'edge 1' })), 'accepted');
});

void test('hostile strings within the limits are accepted as data, unchanged', () => {
  const nasty = '<img src=x onerror=alert(1)>\u001b[2J\u202egnp.exe';
  const a = makeAlert(1, T, { node: 'edge-1', program: nasty, process: { pid: 1, exec_id: 'e', binary: nasty, arguments: nasty } });
  const r = read('argos/edge-1/alert', a);
  assert.ok(r.ok && r.record.kind === 'alert');
  assert.equal(r.record.alert.program, nasty);
});
