// The first days of a device, with the real daemon: `argos run` learns the device from real
// recorded behaviour (models/recordings/debian12-x64), trains its own model in a worker thread,
// swaps it in without a restart, and keeps it across restarts; operators allow alerts over
// MQTT and relearn from the CLI; a daemon killed mid-training trains again when it restarts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { startCli, runInProcess, ROOT, type CliRun } from '../helpers/cli.js';
import { waitFor } from '../helpers/fake-time.js';
import { Mosquitto, freePort } from '../helpers/mosquitto.js';
import { Subscriber } from '../helpers/mqtt-subscriber.js';
import type { Alert } from '../../src/core/alert.js';
import type { CommandResult, StatePayload } from '../../src/core/mqtt.js';

const RECORDINGS = join(ROOT, 'models/recordings/debian12-x64');
const labels = JSON.parse(readFileSync(join(RECORDINGS, 'labels.json'), 'utf8')) as { attacks: Record<string, { instance: string }> };

/** Streams a recording into the daemon's standard input (which stays open). */
async function feed(run: CliRun, name: string): Promise<void> {
  await pipeline(createReadStream(join(RECORDINGS, name)), createGunzip(), run.child.stdin as Writable, { end: false });
}

async function metrics(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

async function counter(port: number, name: string): Promise<number> {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(await metrics(port));
  return m ? Number(m[1]) : NaN;
}

/** A recording's events (one per line) and the exec ids of its processes. */
async function recording(name: string): Promise<{ events: number; execIds: Set<string> }> {
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    createReadStream(join(RECORDINGS, name))
      .pipe(createGunzip())
      .on('data', (c: Buffer) => chunks.push(c))
      .on('end', () => resolve(Buffer.concat(chunks).toString()))
      .on('error', reject);
  });
  const execIds = new Set<string>();
  for (const m of text.matchAll(/"exec_id":"([^"]+)"/g)) execIds.add(m[1] as string);
  return { events: text.split('\n').filter((l) => l.trim() !== '').length, execIds };
}

/** Polls the daemon's counter until it reaches `target` (bounded). */
async function counterReaches(port: number, name: string, target: number, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (let v = await counter(port, name); !(v >= target); v = await counter(port, name)) {
    if (Date.now() > deadline) assert.fail(`${name} stayed at ${v}, below ${target}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('argos run learns the device, swaps its own model in without a restart, and keeps it; allow over MQTT; relearn; a kill mid-training', async () => {
  const broker = await Mosquitto.start();
  const dir = mkdtempSync(join(tmpdir(), 'argos-learning-'));
  const sub = await Subscriber.connect(broker.url, 'argos/edge-1/#');
  const port = await freePort();
  const env = {
    ARGOS_SOURCE: 'stdin',
    ARGOS_DB_PATH: join(dir, 'argos.db'),
    ARGOS_NODE_NAME: 'edge-1',
    ARGOS_MQTT_URL: broker.url,
    ARGOS_HTTP_ADDRESS: `127.0.0.1:${port}`,
    ARGOS_LEARN_PERIOD: '20s',
    ARGOS_LOG_LEVEL: 'info',
  };
  const states = (): StatePayload[] => sub.on('argos/edge-1/state').map((m) => JSON.parse(m.payload) as StatePayload);
  const status = async (): Promise<StatePayload> => JSON.parse((await runInProcess(['status', '--json'], { env })).stdout) as StatePayload;
  let run = startCli(['run'], { env, keepStdin: true, limitMs: 600_000 });
  try {
    await waitFor(() => states().length > 0 || run.child.exitCode !== null, 'the first state', 60_000);
    assert.equal(states()[0]?.state, 'learning', run.out().stderr);
    assert.equal(states()[0]?.model.version, 0, 'the generic model watches while learning');

    // Day one: normal behaviour of the device; the daemon learns it and trains by itself. A
    // restart while learning keeps the baseline and the time learnt.
    await feed(run, 'normal-train.jsonl.gz');
    run.child.kill('SIGTERM');
    assert.equal((await run.done).code, 143, run.out().stderr.slice(-2000));
    const learnt = await status();
    assert.equal(learnt.state, 'learning');
    assert.ok((learnt.learning?.traces ?? 0) > 4000, `the baseline is kept (${learnt.learning?.traces} traces)`);
    assert.ok((learnt.learning?.progress ?? 0) > 0, 'and the time learnt');
    run = startCli(['run'], { env, keepStdin: true, limitMs: 600_000 });
    await waitFor(() => states().some((s) => s.state === 'detecting') || run.child.exitCode !== null, 'the device model', 300_000);
    const detecting = states().find((s) => s.state === 'detecting');
    assert.ok(detecting, `no model:\n${run.out().stderr.slice(-3000)}`);
    assert.equal(detecting.model.version, 1);
    assert.ok(detecting.programs > 10, `a profile per program (${detecting.programs})`);
    assert.equal(detecting.lastTraining?.ok, true);
    assert.ok((detecting.lastTraining?.heldOutFpr ?? 1) <= 0.02, `validated on held-out normal traces (${detecting.lastTraining?.heldOutFpr})`);
    assert.deepEqual(
      [...new Set(states().map((s) => s.state))],
      ['learning', 'training', 'detecting'],
    );
    assert.equal((await status()).model.version, 1);
    const m = await metrics(port);
    assert.match(m, /^argos_state\{state="detecting"\} 1$/m);
    assert.match(m, /^argos_model_version 1$/m);
    assert.match(m, /^argos_trainings_total\{outcome="installed"\} 1$/m);

    // Fresh normal behaviour it never learned from, then the attacks, watched by the device's own model.
    const eventsBefore = await counter(port, 'argos_events_total');
    await feed(run, 'normal-test.jsonl.gz');
    await feed(run, 'attacks.jsonl.gz');
    const [normalTest, attacks] = [await recording('normal-test.jsonl.gz'), await recording('attacks.jsonl.gz')];
    await counterReaches(port, 'argos_events_total', eventsBefore + normalTest.events + attacks.events, 120_000);
    const alerts = (): Alert[] => sub.on('argos/edge-1/alert').map((x) => JSON.parse(x.payload) as Alert).filter((a) => a.model === 'edge-1-device');
    // A program this device never ran, and anomalies of the device model among the attacks.
    await waitFor(() => alerts().some((a) => a.kind === 'new_program' && a.program === '/usr/sbin/useradd') && alerts().some((a) => a.kind === 'anomaly' && labels.attacks[a.process.exec_id] !== undefined), 'alerts on the attacks', 60_000);
    const onNormal = new Set(alerts().filter((a) => normalTest.execIds.has(a.process.exec_id)).map((a) => a.id));
    assert.ok(onNormal.size <= 5, `the device model stays quiet on fresh normal behaviour (${onNormal.size} alerts)`);
    const anomaly = alerts().find((a) => a.kind === 'anomaly' && labels.attacks[a.process.exec_id] !== undefined) as Alert;

    // An operator allows one over MQTT; a malformed command changes nothing and says why.
    const op = await mqtt.connectAsync(broker.url);
    await op.publishAsync('argos/edge-1/cmd', JSON.stringify({ id: 'c-1', command: 'allow', alert: anomaly.id }), { qos: 1 });
    await op.publishAsync('argos/edge-1/cmd', '{"id":"c-2","command":"allow"}', { qos: 1 });
    await sub.waitFor((s) => s.on('argos/edge-1/cmd/result').length >= 2, 'two command results');
    const results = sub.on('argos/edge-1/cmd/result').map((x) => JSON.parse(x.payload) as CommandResult);
    assert.equal(results.find((r) => r.id === 'c-1')?.ok, true);
    assert.equal(results.find((r) => r.id === 'c-2')?.ok, false);
    assert.match(results.find((r) => r.id === 'c-2')?.error ?? '', /alert|program/);
    await op.endAsync();

    // A restart: the device model watches at once.
    run.child.kill('SIGTERM');
    assert.equal((await run.done).code, 143, run.out().stderr.slice(-2000));
    const seen = states().length;
    run = startCli(['run'], { env, keepStdin: true, limitMs: 600_000 });
    await waitFor(() => states().length > seen || run.child.exitCode !== null, 'the state after the restart', 60_000);
    assert.deepEqual([states().at(-1)?.state, states().at(-1)?.model.version], ['detecting', 1]);

    // A new role: the operator relearns from the CLI while the daemon runs.
    const relearn = await runInProcess(['model', 'relearn'], { env });
    assert.equal(relearn.code, 0, relearn.stderr);
    await waitFor(() => states().at(-1)?.state === 'learning', 'learning again', 30_000);
    assert.equal(states().at(-1)?.model.version, 0);
    assert.equal(states().at(-1)?.learning?.traces, 0, 'the baseline starts empty');

    // Killed in the middle of the next training: the restart trains again and installs a whole model.
    await feed(run, 'normal-train.jsonl.gz');
    await waitFor(() => states().at(-1)?.state === 'training' || run.child.exitCode !== null, 'the second training', 120_000);
    run.child.kill('SIGKILL');
    await run.done;
    run = startCli(['run'], { env, keepStdin: true, limitMs: 600_000 });
    await waitFor(() => states().at(-1)?.state === 'detecting' || run.child.exitCode !== null, 'the model after the kill', 300_000);
    assert.equal(states().at(-1)?.state, 'detecting', run.out().stderr.slice(-3000));
    const list = await runInProcess(['model', 'list', '--json'], { env });
    const versions = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { version: number; inUse: boolean });
    assert.deepEqual(
      versions.map((v) => v.version),
      [1, 2],
    );
    assert.equal(versions.find((v) => v.inUse)?.version, 2);
    // Back to the first model, while the daemon runs.
    const rollback = await runInProcess(['model', 'rollback'], { env });
    assert.equal(rollback.code, 0, rollback.stderr);
    await waitFor(() => states().at(-1)?.model.version === 1, 'the rollback to v1', 30_000);
    assert.equal(states().at(-1)?.state, 'detecting');
    assert.deepEqual(
      readdirSync(join(dir, 'models')).filter((n) => n.startsWith('.staging')),
      [],
      'what the killed training left is gone',
    );
  } finally {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
    await run.done;
    await sub.close();
    await broker.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
