// The daemon's learning lifecycle (src/learn/lifecycle.ts) on fake time, a real database and
// real model folders; trainings are scripted (real ones run in test/process/learning.test.ts).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { silentLogger } from '../../src/core/logger.js';
import { Learner, LIFECYCLE_KEY, REQUEST_KEY, RETRY_FRACTION, type LifecycleRecord, type ModelSwitcher } from '../../src/learn/lifecycle.js';
import { ModelStore } from '../../src/learn/model-store.js';
import { Trainer } from '../../src/learn/trainer.js';
import type { TrainingJob, TrainingOutcome } from '../../src/learn/training.js';
import { SqliteStore } from '../../src/store/store.js';
import type { StatePayload } from '../../src/core/mqtt.js';
import { tempRoot } from '../integration/onnx-models.js';
import { FakeTime, waitFor } from '../helpers/fake-time.js';

const root = tempRoot('argos-learn-lifecycle-');
after(() => rmSync(root, { recursive: true, force: true }));
const SHIPPED = resolve('models/default');
const PERIOD = 60_000;
const INTERVAL = 600_000;
let n = 0;

/** A device: its database and model folder, a scripted trainer, and what the pipeline was asked to swap in. */
class Device {
  readonly dir = join(root, `device-${++n}`);
  readonly dbPath = join(this.dir, 'argos.db');
  readonly models = new ModelStore(join(this.dir, 'models'));
  /** The outcome of each training, in turn; ok when it runs out. */
  readonly script: ('ok' | 'refused')[] = [];
  readonly jobs: TrainingJob[] = [];
  readonly used: (number | undefined)[] = [];
  readonly states: StatePayload[] = [];
  /** Programs that start again every second while time runs. */
  running: string[] = [];
  /** A version the pipeline cannot load (its files damaged). */
  damaged: number | undefined;
  time = new FakeTime();
  store!: SqliteStore;
  learner!: Learner;

  async start(): Promise<Learner> {
    this.store = new SqliteStore({ path: this.dbPath, clock: this.time });
    await this.store.start();
    const trainer = new Trainer({ entry: new URL('file:///unused'), mode: 'inline', inline: (job) => this.train(job), log: silentLogger() });
    const switcher: ModelSwitcher = {
      use: (version) => {
        if (version !== undefined && version === this.damaged) return Promise.reject(new Error('model.onnx is damaged'));
        this.used.push(version);
        return Promise.resolve({ name: version === undefined ? 'generic' : `device-v${version}`, version: version ?? 0, programs: version === undefined ? 0 : 2 });
      },
    };
    this.learner = new Learner({
      store: this.store,
      models: this.models,
      trainer,
      switcher,
      node: 'edge-1',
      learnPeriodMs: PERIOD,
      retrainIntervalMs: INTERVAL,
      job: { dbPath: this.dbPath, name: 'edge-1-device', window: 64, delta: 16, targetFpr: 0.01, seed: 1 },
      clock: this.time,
      timers: this.time,
      log: silentLogger(),
      onState: (s) => this.states.push(s),
    });
    await this.learner.start();
    return this.learner;
  }

  async stop(): Promise<void> {
    await this.learner.stop();
    await this.store.stop();
  }

  /** Baseline traces of `program`: `count` of them, `calls` calls each. */
  baseline(program: string, count: number, calls = 10): void {
    this.store.appendBaseline(Array.from({ length: count }, (_, i) => ({ execId: `${program}-${i}`, binary: program, program, startedAt: this.time.now(), syscalls: Array(calls).fill('read').join(' ') })));
  }

  private train(job: TrainingJob): Promise<TrainingOutcome> {
    this.jobs.push(job);
    const outcome = this.script.shift() ?? 'ok';
    if (outcome === 'refused') return Promise.resolve({ ok: false, reason: 'it flags 9.0% of 40 newest normal traces', seconds: 1, traces: 40, programs: 2, validation: { traces: 4, fpr: 0.09 } });
    cpSync(SHIPPED, job.staging, { recursive: true });
    return Promise.resolve({ ok: true, seconds: 1, traces: 40, programs: 2, validation: { traces: 4, fpr: 0 } });
  }

  /** Moves running time forward a second at a time, letting trainings finish in between. */
  async run(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 1000) {
      for (const p of this.running) this.learner.programSeen(p);
      this.time.advance(1000);
      await new Promise((r) => setImmediate(r));
    }
  }
}

void test('learns for the period of running time, trains, installs v1 and swaps it in; a restart keeps detecting with it', async () => {
  const d = new Device();
  const learner = await d.start();
  assert.equal(learner.state, 'learning');
  assert.deepEqual(d.used, [undefined], 'the generic model watches while learning');
  d.running = ['/usr/sbin/sshd', '/usr/bin/python3'];
  d.baseline('/usr/sbin/sshd', 5);
  d.baseline('/usr/bin/python3', 1, 2500);
  await d.run(PERIOD - 5000);
  assert.equal(d.jobs.length, 0, 'not before the learning period');
  assert.equal(learner.status().learning?.ready, 2);
  await d.run(10_000);
  await waitFor(() => learner.state === 'detecting', 'the first model');
  assert.equal(d.jobs.length, 1);
  assert.equal(d.models.current()?.version, 1);
  assert.deepEqual(d.used, [undefined, 1]);
  assert.deepEqual(
    d.states.map((s) => s.state),
    ['learning', 'training', 'detecting'],
  );
  const last = learner.status().lastTraining;
  assert.equal(last?.ok, true);
  assert.equal(last?.version, 1);
  assert.equal(learner.status().learning, undefined);
  await d.stop();
  // A restart: the installed model watches at once; nothing is trained again.
  d.time = new FakeTime();
  const again = await d.start();
  assert.equal(again.state, 'detecting');
  assert.deepEqual(d.used.slice(-1), [1]);
  await d.run(10_000);
  assert.equal(d.jobs.length, 1);
  await d.stop();
});

void test('an active program with too little in the baseline holds the first training back, up to twice the period', async () => {
  const d = new Device();
  const learner = await d.start();
  d.running = ['/usr/sbin/sshd', '/usr/sbin/rare-cron-job'];
  d.baseline('/usr/sbin/sshd', 10);
  d.baseline('/usr/sbin/rare-cron-job', 1, 50);
  await d.run(PERIOD * 1.5);
  assert.equal(d.jobs.length, 0, 'the rare program is not ready');
  assert.deepEqual(learner.status().learning && [learner.status().learning?.ready, learner.status().learning?.programs], [1, 2]);
  // It keeps starting (it is active) ... until twice the period.
  await d.run(PERIOD * 0.5 + 6000);
  await waitFor(() => learner.state === 'detecting', 'the model after twice the period');
  assert.equal(d.jobs.length, 1);
  await d.stop();
});

void test('a refused first model: learning goes on, and the next try waits a quarter of the period', async () => {
  const d = new Device();
  d.script.push('refused');
  const learner = await d.start();
  await d.run(PERIOD + 5000);
  await waitFor(() => d.jobs.length === 1 && learner.state === 'learning', 'the refused training');
  assert.equal(d.models.current(), undefined, 'nothing installed');
  const last = learner.status().lastTraining;
  assert.equal(last?.ok, false);
  assert.match(last?.reason ?? '', /9\.0%/);
  await d.run(PERIOD * RETRY_FRACTION - 10_000);
  assert.equal(d.jobs.length, 1, 'no second try before a quarter of the period');
  await d.run(20_000);
  await waitFor(() => learner.state === 'detecting', 'the second try');
  assert.equal(d.jobs.length, 2);
  assert.equal(learner.trainings.refused, 1);
  assert.equal(learner.trainings.installed, 1);
  await d.stop();
});

void test('time while the daemon is down does not count; a training cut short by a stop starts again', async () => {
  const d = new Device();
  await d.start();
  await d.run(PERIOD / 2);
  await d.stop();
  // Down for a day of wall time.
  d.time = new FakeTime(1_700_000_000_000 + 86_400_000);
  let learner = await d.start();
  const learnt = d.store.getLifecycle<LifecycleRecord>(LIFECYCLE_KEY)?.learnedMs ?? 0;
  assert.ok(learnt >= PERIOD / 2 - 1000 && learnt < PERIOD, `learnt time kept across the restart (${learnt} ms)`);
  await d.run(PERIOD / 4);
  assert.equal(d.jobs.length, 0, 'the wall-clock day did not count');
  await d.stop();
  // A stop mid-training leaves the state "training"; the next start trains again.
  d.store = new SqliteStore({ path: d.dbPath, clock: d.time });
  await d.store.start();
  d.store.setLifecycle(LIFECYCLE_KEY, { ...d.store.getLifecycle<LifecycleRecord>(LIFECYCLE_KEY), state: 'training' });
  await d.store.stop();
  learner = await d.start();
  await waitFor(() => learner.state === 'detecting', 'the training started again');
  assert.equal(d.jobs.length, 1);
  await d.stop();
});

void test('detecting: trains again every interval; a worse model is refused and the one in use stays', async () => {
  const d = new Device();
  const learner = await d.start();
  await d.run(PERIOD + 5000);
  await waitFor(() => learner.state === 'detecting', 'v1');
  d.script.push('refused');
  await d.run(INTERVAL + 1000);
  await waitFor(() => d.jobs.length === 2 && learner.state === 'detecting', 'the refused retraining');
  assert.equal(d.jobs[1]?.current, d.models.dirOf(1), 'the new model is compared with the one in use');
  assert.equal(d.models.current()?.version, 1);
  assert.equal(learner.status().lastTraining?.ok, false);
  await d.run(INTERVAL + 1000);
  await waitFor(() => d.models.current()?.version === 2, 'v2');
  assert.deepEqual(d.used, [undefined, 1, 2]);
  await d.stop();
});

void test('the CLI\'s requests through the database: rollback to an earlier version, and relearning afresh', async () => {
  const d = new Device();
  const learner = await d.start();
  await d.run(PERIOD + 5000);
  await waitFor(() => learner.version === 1, 'v1');
  learner.trainNow();
  await waitFor(() => learner.version === 2, 'v2');
  // Another connection, as `argos model rollback` opens.
  const cli = new SqliteStore({ path: d.dbPath });
  await cli.start();
  d.models.use(1);
  cli.setLifecycle(REQUEST_KEY, { kind: 'rollback', version: 1 });
  await d.run(2000);
  await waitFor(() => learner.version === 1, 'the rollback');
  assert.equal(cli.getLifecycle(REQUEST_KEY), undefined, 'the request is taken once');
  d.baseline('/usr/bin/app', 3);
  cli.addAllowance({ program: '/usr/bin/app', scoreMax: null, alertId: null });
  cli.setLifecycle(REQUEST_KEY, { kind: 'relearn' });
  await d.run(2000);
  await waitFor(() => learner.state === 'learning', 'relearning');
  assert.equal(learner.version, 0);
  assert.equal(d.models.current(), undefined);
  assert.equal(d.store.baselineStats().traces, 0, 'the baseline starts empty');
  assert.equal(d.store.listAllowances().length, 0);
  assert.ok((learner.status().learning?.progress ?? 1) < 0.05, 'learning starts over');
  await cli.stop();
  await d.stop();
});

void test('a damaged installed model: the generic model watches and the device is learnt again from its baseline', async () => {
  const d = new Device();
  let learner = await d.start();
  await d.run(PERIOD + 5000);
  await waitFor(() => learner.version === 1, 'v1');
  await d.stop();
  d.damaged = 1;
  d.script.push('refused');
  learner = await d.start();
  assert.equal(learner.state, 'learning');
  assert.equal(learner.version, 0, 'the generic model watches');
  // The learnt time is kept: it trains again soon, from the baseline it has.
  await d.run(6000);
  await waitFor(() => d.jobs.length === 2, 'a new training');
  await d.stop();
});
