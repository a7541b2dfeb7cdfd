// `argos replay` with MQTT configured: alerts are published to a real mosquitto and the
// replay waits (bounded) until the outbox is drained; a daemon killed mid-stream loses nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCli, lastJson } from '../helpers/cli.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Subscriber } from '../helpers/mqtt-subscriber.js';

test('replay --demo --json with ARGOS_MQTT_URL: every stored alert reaches a subscriber before it exits', async () => {
  const broker = await Mosquitto.start();
  const dir = mkdtempSync(join(tmpdir(), 'argos-replay-mqtt-'));
  const sub = await Subscriber.connect(broker.url, 'argos/#');
  try {
    const r = await runCli(['replay', '--demo', '--json', '--db', join(dir, 'a.db')], {
      env: { ARGOS_MQTT_URL: broker.url, MACHINE_NAME: 'edge/7+#', ARGOS_MQTT_PREFIX: 'argos' },
    });
    assert.equal(r.code, 0, r.stderr);
    const summary = lastJson(r.stdout);
    const alerts = summary.alerts as number;
    assert.ok(alerts > 0);
    // The node name is sanitised into one topic level.
    const alertMsgs = sub.messages.filter((m) => m.topic.startsWith('argos/') && m.topic.endsWith('/alert'));
    const topicLevels = alertMsgs[0]?.topic.split('/') ?? [];
    assert.equal(topicLevels.length, 3, `topic ${alertMsgs[0]?.topic}`);
    const ids = new Set(alertMsgs.map((m) => (JSON.parse(m.payload) as { id: string }).id));
    assert.equal(ids.size, alerts, 'every stored alert was published (dedup by id) before replay exited');
    const one = JSON.parse(alertMsgs[0].payload) as Record<string, unknown>;
    for (const k of ['id', 'node', 'time', 'process', 'model', 'score', 'threshold', 'window', 'count']) assert.ok(k in one, `alert has ${k}`);
    const status = sub.messages.filter((m) => m.topic.endsWith('/status')).map((m) => m.payload);
    assert.deepEqual(status.slice(-1), ['offline'], 'a clean stop says offline');
  } finally {
    await sub.close();
    await broker.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('replay with the broker down: alerts wait in the outbox; the next run on the same database delivers each once', async () => {
  const broker = await Mosquitto.start({ persistence: true });
  const port = broker.port;
  await broker.stop();
  const dir = mkdtempSync(join(tmpdir(), 'argos-replay-outage-'));
  const db = join(dir, 'a.db');
  const empty = join(dir, 'empty.jsonl');
  writeFileSync(empty, '');
  try {
    const r = await runCli(['replay', '--demo', '--json', '--db', db], { env: { ARGOS_MQTT_URL: broker.url, ARGOS_DRAIN_TIMEOUT: '2s' } });
    assert.equal(r.code, 0, r.stderr);
    const stored = lastJson(r.stdout).alerts as number;
    assert.ok(stored > 0);
    const list = await runCli(['alerts', '--json', '--db', db]);
    assert.equal(list.stdout.trim().split('\n').length, stored, 'the alerts are stored while the broker is away');

    await broker.start();
    assert.equal(broker.port, port);
    const sub = await Subscriber.connect(broker.url, 'argos/+/alert');
    try {
      const again = await runCli(['replay', empty, '--json', '--db', db], { env: { ARGOS_MQTT_URL: broker.url } });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(lastJson(again.stdout).alerts, 0);
      const ids = sub.messages.map((m) => (JSON.parse(m.payload) as { id: string }).id);
      assert.equal(new Set(ids).size, stored, 'every alert of the first run arrived');
    } finally {
      await sub.close();
    }
  } finally {
    await broker.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a daemon SIGKILLed mid-stream loses no stored alert: the next start drains its outbox', async () => {
  const broker = await Mosquitto.start();
  await broker.stop(); // down while the first process runs
  const dir = mkdtempSync(join(tmpdir(), 'argos-crash-'));
  const db = join(dir, 'a.db');
  const empty = join(dir, 'empty.jsonl');
  writeFileSync(empty, '');
  try {
    // The demo recording spans 0.5 s; at 1/40 of its pace it takes about 20 s.
    const first = startCli(['replay', '--demo', '--speed', '0.025', '--db', db], { env: { ARGOS_MQTT_URL: broker.url } });
    let stored: { id: string }[] = [];
    const deadline = Date.now() + 60_000;
    while (stored.length < 2 && Date.now() < deadline && first.child.exitCode === null) {
      const list = await runCli(['alerts', '--json', '--db', db]);
      stored = list.stdout.trim() === '' ? [] : list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string });
    }
    assert.equal(first.child.exitCode, null, 'killed while still running');
    first.child.kill('SIGKILL');
    await first.done;
    assert.ok(stored.length >= 2, 'alerts were stored before the crash');
    const atCrash = (await runCli(['alerts', '--json', '--db', db])).stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);

    await broker.start();
    const sub = await Subscriber.connect(broker.url, 'argos/+/alert');
    try {
      const again = await runCli(['replay', empty, '--json', '--db', db], { env: { ARGOS_MQTT_URL: broker.url } });
      assert.equal(again.code, 0, again.stderr);
      const got = new Set(sub.messages.map((m) => (JSON.parse(m.payload) as { id: string }).id));
      for (const id of atCrash) assert.ok(got.has(id), `alert ${id} stored before the crash was delivered after it`);
    } finally {
      await sub.close();
    }
  } finally {
    await broker.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
