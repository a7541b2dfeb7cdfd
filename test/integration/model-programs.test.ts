// Per-program models end to end: train on a recording that names its programs, evaluate on
// held-out normal processes and labelled attacks, against one profile for all programs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess } from '../helpers/cli.js';
import { writeProgramRecordings } from '../helpers/program-recordings.js';
import type { ModelCard } from '../../src/core/model-card.js';
import type { EvaluationReport } from '../../src/model/evaluate.js';

void test('one profile per program catches a program doing another\'s work, which one profile for all misses', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-programs-'));
  try {
    const r = writeProgramRecordings(dir);
    const train = async (out: string, ...extra: string[]): Promise<ModelCard> => {
      const t = await runInProcess(['train', '--data', r.train, '--out', out, '--window', '64', '--delta', '16', '--min-program-calls', '1000', '--no-progress', '--json', ...extra]);
      assert.equal(t.code, 0, t.stderr);
      return JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as ModelCard;
    };
    const evaluate = async (model: string): Promise<EvaluationReport> => {
      const e = await runInProcess(['evaluate', '--model', model, '--normal', r.normal, '--attack', r.attacks, '--labels', r.labels, '--no-progress', '--json']);
      assert.equal(e.code, 0, e.stderr);
      return JSON.parse(e.stdout) as EvaluationReport;
    };

    const card = await train(join(dir, 'per-program'));
    assert.deepEqual(card.programs, { '/usr/bin/alpha': 1, '/usr/bin/beta': 2 });
    assert.equal(card.threshold, 1, 'scores come divided by their profile\'s threshold');
    assert.deepEqual(card.profiles?.map((p) => [p.program, p.traces, p.rule]), [[null, 0, 'quantile'], ['/usr/bin/alpha', 40, 'quantile'], ['/usr/bin/beta', 40, 'quantile']]);
    const per = await evaluate(join(dir, 'per-program'));
    assert.equal(per.attack_units, 8);
    assert.equal(per.new_program_attack, 4, 'the binaries from /tmp are new programs');
    assert.equal(per.new_program_normal, 0);
    assert.equal(per.per_type.dropped_binary.recall, 1);
    assert.ok(per.per_type.cross_program.auc >= 0.98, `cross-program AUC ${per.per_type.cross_program.auc}`);
    assert.ok(per.auc >= 0.98 && per.far_at_dr90 <= 0.05, `AUC ${per.auc}, false alarms at 90% detection ${per.far_at_dr90}`);
    assert.deepEqual(Object.keys(per.per_program ?? {}).sort(), ['/tmp/.x0', '/tmp/.x1', '/tmp/.x2', '/tmp/.x3', '/usr/bin/alpha', '/usr/bin/beta']);
    assert.equal(per.per_program?.['/usr/bin/beta'].attack_traces, 4);
    assert.equal(per.per_program?.['/tmp/.x0'].new, true);

    const single = await train(join(dir, 'single'), '--no-programs');
    assert.equal(single.programs, undefined);
    const one = await evaluate(join(dir, 'single'));
    assert.equal(one.new_program_attack, 0, 'a model that knows no programs raises no new_program alerts');
    assert.ok(one.per_type.cross_program.auc < 0.8, `one profile for all cannot tell beta doing alpha's work: AUC ${one.per_type.cross_program.auc}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('--program-by folder: a trace file\'s first-level folder names its program', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-program-by-'));
  try {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    for (const [prog, pattern] of [['svc-a', 'read write '], ['svc-b', 'mmap brk ']] as const) {
      mkdirSync(join(dir, 'data', prog), { recursive: true });
      for (let i = 0; i < 12; i++) writeFileSync(join(dir, 'data', prog, `t${i}.txt`), pattern.repeat(120 + i));
    }
    const t = await runInProcess(['train', '--data', join(dir, 'data'), '--program-by', 'folder', '--out', join(dir, 'm'), '--window', '64', '--delta', '16', '--min-program-calls', '100', '--no-progress', '--json']);
    assert.equal(t.code, 0, t.stderr);
    assert.deepEqual((JSON.parse(t.stdout) as ModelCard).programs, { 'svc-a': 1, 'svc-b': 2 });
    const bad = await runInProcess(['train', '--data', join(dir, 'data'), '--program-by', 'file', '--out', join(dir, 'm2')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--program-by "file": the only way is "folder"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
