// On-device retraining: `argos learn` records normal behaviour into the database,
// `argos train --baseline` builds a model from it, and the daemon uses that model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, lastJson, ROOT } from '../helpers/cli.js';

test('learn from a recording, train on the baseline, replay with the new model', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-learn-'));
  try {
    const db = join(dir, 'argos.db');
    const recording = join(ROOT, 'models/demo/adfa-ld.jsonl.gz');
    const learn = await runCli(['learn', '--source', 'replay', '--db', db, '--json'], { env: { ARGOS_REPLAY_FILE: recording } });
    assert.equal(learn.code, 0, learn.stderr);
    const learned = lastJson(learn.stdout) as { recorded: number; baseline: { traces: number; syscalls: number } };
    assert.equal(learned.recorded, 52, 'every process of the recording is recorded at its exit');
    assert.equal(learned.baseline.traces, 52);
    assert.ok(learned.baseline.syscalls > 20_000);

    // Learning twice adds; --clear starts again.
    const again = await runCli(['learn', '--source', 'replay', '--db', db, '--json', '--clear'], { env: { ARGOS_REPLAY_FILE: recording } });
    assert.equal((lastJson(again.stdout) as { baseline: { traces: number } }).baseline.traces, 52);

    const out = join(dir, 'model');
    const train = await runCli(['train', '--baseline', '--db', db, '--out', out, '--window', '256', '--delta', '64', '--no-progress', '--json']);
    assert.equal(train.code, 0, train.stderr);
    for (const f of ['model.onnx', 'syscalls.csv', 'model.json']) assert.ok(existsSync(join(out, f)), f);
    const card = lastJson(train.stdout) as { window: number; training: { traces: number } };
    assert.equal(card.window, 256);
    assert.equal(card.training.traces, 52);

    // The daemon picks up the card's window and delta, and a model trained on these very
    // processes finds (almost) nothing unusual in them.
    const replay = await runCli(['replay', recording, '--json'], { env: { ARGOS_MODEL_DIR: out } });
    assert.equal(replay.code, 0, replay.stderr);
    const s = lastJson(replay.stdout) as { processes: number; windows: number; alerts: number };
    assert.equal(s.processes, 52);
    assert.ok(s.windows > 52, 'smaller windows: more of them');
    assert.ok(s.alerts <= 5, `few alerts on the training behaviour itself (got ${s.alerts})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train --baseline on an empty database says what to do', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-learn-empty-'));
  try {
    const r = await runCli(['train', '--baseline', '--db', join(dir, 'a.db'), '--out', join(dir, 'm'), '--no-progress']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /argos learn/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
