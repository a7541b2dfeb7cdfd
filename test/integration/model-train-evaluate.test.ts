// `argos train` and `argos evaluate` end to end on a generated data set, run in-process with
// real files and ONNX Runtime; and every bad-input path ends in exit code 2 with a clear line.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInProcess } from '../helpers/cli.js';
import { parseCard } from '../../src/model/folder.js';
import { generatedTrace, writeGeneratedSet } from '../helpers/model-data.js';
import { SqliteStore } from '../../src/store/store.js';
import { prng } from '../../src/core/random.js';

const dir = mkdtempSync(join(tmpdir(), 'argos-model-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const set = writeGeneratedSet(join(dir, 'data'));

function argos(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runInProcess(args, { cwd: dir });
}

void test('train writes a model folder; evaluate separates the attacks and reports each attack type', async () => {
  const out = join(dir, 'model');
  const t = await argos('train', '--data', set.train, '--out', out, '--window', '64', '--delta', '16', '--order', '4', '--json');
  assert.equal(t.code, 0, t.stderr);
  const card = parseCard(readFileSync(join(out, 'model.json'), 'utf8'), 'model.json');
  assert.deepEqual(JSON.parse(t.stdout), card);
  assert.equal(card.window, 64);
  assert.equal(card.delta, 16);
  assert.equal(card.training.traces, 60);
  assert.match(card.training.sha256, /^[0-9a-f]{64}$/);
  assert.ok(card.metrics.heldOutFpr <= 0.05);
  assert.ok(card.metrics.parityMaxDiff <= 1e-4);
  assert.match(readFileSync(join(out, 'syscalls.csv'), 'utf8'), /^[a-z_0-9]+,2\n/);
  assert.match(t.stderr, /calibrate: 5\/5/, 'progress lines when not on a terminal');

  const e = await argos('evaluate', '--model', out, '--normal', set.normal, '--attack', set.attack, '--json', '--no-progress');
  assert.equal(e.code, 0, e.stderr);
  assert.equal(e.stderr, '');
  const r = JSON.parse(e.stdout) as Record<string, unknown> & { per_type: Record<string, { traces: number; auc: number }> };
  assert.equal(r.normal_traces, 40);
  assert.equal(r.attack_traces, 36);
  assert.ok((r.auc as number) > 0.95, `auc ${String(r.auc)}`);
  assert.ok((r.far_at_dr90 as number) < 0.2, `far ${String(r.far_at_dr90)}`);
  for (const k of ['precision', 'recall', 'f1', 'fpr']) assert.equal(typeof r[k], 'number');
  assert.deepEqual(Object.keys(r.per_type), ['Alpha', 'Beta']);
  assert.equal(r.per_type.Alpha.traces, 24);
  assert.equal(r.per_type.Beta.traces, 12);

  const human = await argos('evaluate', '--model', out, '--normal', set.normal, '--attack', set.attack, '--no-progress');
  assert.equal(human.code, 0);
  assert.match(human.stdout, /Alpha +24 +auc/);
});

void test('the same data and seed give the same model bytes; another seed only moves the threshold', async () => {
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  for (const o of [a, b]) assert.equal((await argos('train', '--data', set.train, '--out', o, '--window', '64', '--delta', '32', '--family', 'stide', '--no-progress')).code, 0);
  assert.deepEqual(readFileSync(join(a, 'model.onnx')), readFileSync(join(b, 'model.onnx')));
  assert.equal(readFileSync(join(a, 'syscalls.csv'), 'utf8'), readFileSync(join(b, 'syscalls.csv'), 'utf8'));
  const ca = parseCard(readFileSync(join(a, 'model.json'), 'utf8'), 'a');
  const cb = parseCard(readFileSync(join(b, 'model.json'), 'utf8'), 'b');
  assert.equal(ca.threshold, cb.threshold);
  assert.equal(ca.family, 'stide');
});

void test('a GRU and n-gram ensemble trains to the same bytes for the same seed (folds in worker threads or not), and separates the attacks', async () => {
  const a = join(dir, 'ens-a');
  const b = join(dir, 'ens-b');
  const flags = ['--data', set.train, '--window', '64', '--delta', '32', '--family', 'ensemble', '--members', 'gru:8,ngram:3', '--epochs', '3', '--no-progress'];
  for (const [o, jobs] of [[a, '1'], [b, '2']]) {
    const t = await argos('train', ...flags, '--out', o, '--jobs', jobs);
    assert.equal(t.code, 0, t.stderr);
  }
  assert.deepEqual(readFileSync(join(a, 'model.onnx')), readFileSync(join(b, 'model.onnx')));
  const card = parseCard(readFileSync(join(a, 'model.json'), 'utf8'), 'a');
  assert.equal(card.threshold, parseCard(readFileSync(join(b, 'model.json'), 'utf8'), 'b').threshold);
  assert.equal(card.family, 'ensemble');
  assert.equal(card.metrics.members, 2);
  assert.equal(card.metrics.member1Hidden, 8);
  assert.equal(card.metrics.member2Order, 3);
  assert.ok(card.metrics.parityMaxDiff <= 1e-4);
  const e = await argos('evaluate', '--model', a, '--normal', set.normal, '--attack', set.attack, '--json', '--no-progress');
  assert.equal(e.code, 0, e.stderr);
  const r = JSON.parse(e.stdout) as { auc: number };
  assert.ok(r.auc > 0.9, `auc ${r.auc}`);
  const bad = await argos('train', '--data', set.train, '--family', 'ensemble', '--members', 'gru:8,lstm:3', '--out', join(dir, 'ens-bad'));
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown family "lstm"/);
});

void test('numeric traces need --abi and are read with it; Tetragon recordings are split per process', async () => {
  const nums = join(dir, 'numeric');
  mkdirSync(nums);
  for (let i = 0; i < 4; i++) writeFileSync(join(nums, `t${i}.txt`), '3 4 5 6 3 4 5 6 3 4 5 6 3 4 5 6 3 4 5 6 192 195\n');
  const no = await argos('train', '--data', nums, '--out', join(dir, 'n0'));
  assert.equal(no.code, 2);
  assert.match(no.stderr, /holds syscall numbers; say which ABI .* --abi/);
  const yes = await argos('train', '--data', nums, '--out', join(dir, 'n1'), '--abi', 'i386', '--window', '8', '--delta', '4', '--no-progress');
  assert.equal(yes.code, 0, yes.stderr);
  const mapping = readFileSync(join(dir, 'n1', 'syscalls.csv'), 'utf8');
  assert.match(mapping, /^read,/m);
  assert.match(mapping, /^mmap,/m, 'i386 mmap2 is read as mmap');

  const rec = join(dir, 'rec.jsonl');
  const line = (exec: string, id: number): string =>
    JSON.stringify({ process_tracepoint: { process: { exec_id: exec, pid: 1 }, subsys: 'raw_syscalls', event: 'sys_enter', args: [{ syscall_id: { id, abi: 'x64' } }] }, time: 't' });
  const lines = [];
  for (let i = 0; i < 30; i++) lines.push(line('A', [0, 1, 3][i % 3]), line('B', [0, 1, 3][(i + 1) % 3]));
  writeFileSync(rec, `${lines.join('\n')}\n${JSON.stringify({ process_exec: { process: { exec_id: 'C' } } })}\n`);
  const r = await argos('train', '--data', rec, '--out', join(dir, 'r1'), '--window', '8', '--delta', '4', '--json', '--no-progress');
  assert.equal(r.code, 0, r.stderr);
  const card = JSON.parse(r.stdout) as { training: { traces: number; syscalls: number } };
  assert.deepEqual(card.training, { ...card.training, traces: 2, syscalls: 60 });
});

void test('train --baseline learns from the traces "argos learn" recorded in the database', async () => {
  const db = join(dir, 'baseline.db');
  const store = new SqliteStore({ path: db });
  await store.start();
  const empty = await argos('train', '--baseline', '--db', db, '--out', join(dir, 'b0'));
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /baseline in .* is empty; record this device's normal behaviour first with "argos learn/);
  const next = prng(3);
  store.appendBaseline(
    Array.from({ length: 30 }, (_, i) => ({ execId: `e${i}`, binary: '/bin/x', startedAt: i, syscalls: [...generatedTrace(next, false, 80), 'unknown'].join(' ') })),
  );
  await store.stop();
  const r = await argos('train', '--baseline', '--db', db, '--out', join(dir, 'b1'), '--window', '32', '--delta', '16', '--json', '--no-progress');
  assert.equal(r.code, 0, r.stderr);
  const card = JSON.parse(r.stdout) as { training: { data: string; traces: number; syscalls: number; abi: string; sha256: string } };
  assert.equal(card.training.traces, 30);
  assert.equal(card.training.syscalls, 30 * 81);
  assert.equal(card.training.abi, 'names');
  assert.equal(card.training.data, `baseline:${db}`);
  assert.doesNotMatch(readFileSync(join(dir, 'b1', 'syscalls.csv'), 'utf8'), /unknown/, '"unknown" is token 1, not a name');
});

void test('bad input: a clear one-line error and exit code 2, never a stack trace', async () => {
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  const blanks = join(dir, 'blanks');
  mkdirSync(blanks);
  writeFileSync(join(blanks, 'a.txt'), '\n \n');
  const binary = join(dir, 'binary');
  mkdirSync(binary);
  writeFileSync(join(binary, 'a.bin'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]));
  const mixed = join(dir, 'mixed');
  mkdirSync(mixed);
  writeFileSync(join(mixed, 'a.txt'), 'read write 3 close');
  const junk = join(dir, 'junk');
  mkdirSync(junk);
  writeFileSync(join(junk, 'a.txt'), 'read wr!te close');
  const one = join(dir, 'one');
  mkdirSync(one);
  writeFileSync(join(one, 'a.txt'), 'read write close');
  const badJson = join(dir, 'bad.jsonl');
  writeFileSync(badJson, '{"process_exec":{}}\n{not json\n');
  const model = join(dir, 'model-for-errors');
  const trained = await argos('train', '--data', set.train, '--out', model, '--window', '32', '--delta', '16', '--no-progress');
  assert.equal(trained.code, 0, trained.stderr);
  const out = join(dir, 'never');

  const cases: [string[], RegExp][] = [
    [['train', '--data', join(dir, 'missing'), '--out', out], /missing does not exist/],
    [['train', '--data', empty, '--out', out], /empty folder/],
    [['train', '--data', blanks, '--out', out], /holds no syscalls/],
    [['train', '--data', binary, '--out', out], /binary file, not a trace/],
    [['train', '--data', mixed, '--out', out], /word 3 \("3"\) is not a syscall name|only numbers or only names|neither/],
    [['train', '--data', junk, '--out', out], /word 2 \("wr!te"\) is neither a syscall number nor a syscall name/],
    [['train', '--data', one, '--out', out], /training needs at least 2/],
    [['train', '--data', badJson, '--out', out], /bad.jsonl:2 is not JSON/],
    [['train', '--data', set.train, '--out', out, '--abi', 'mips'], /unknown ABI "mips"/],
    [['train', '--data', set.train, '--out', out, '--family', 'lstm'], /unknown model family "lstm"; use one of ngram, stide/],
    [['train', '--data', set.train, '--out', out, '--window', '16', '--delta', '32'], /delta must be a whole number from 1 to 16/],
    [['train', '--data', set.train, '--out', out, '--window', 'big'], /--window must be a number/],
    [['train', '--data', set.train, '--out', out, '--order', '40'], /order 40 is too high/],
    [['train', '--data', set.train, '--out', out, '--target-fpr', '2'], /target-fpr must be a number from 0 to 1/],
    [['train', '--data', set.train, '--out', join(one, 'a.txt'), '--window', '32', '--delta', '16'], /cannot create the output folder .*a.txt \(EEXIST\); choose another --out folder/],
    [['train', '--out', out], /give either --data PATH or --baseline/],
    [['train', '--data', set.train, '--baseline', '--out', out], /not both/],
    [['train', '--baseline', '--db', join(dir, 'no.db'), '--out', out], /no.db does not exist; record this device's normal behaviour first/],
    [['evaluate', '--model', join(dir, 'nomodel'), '--normal', set.normal, '--attack', set.attack], /model folder does not exist/],
    [['evaluate', '--model', set.train, '--normal', set.normal, '--attack', set.attack], /model card \(model.json\) does not exist/],
    [['evaluate', '--model', model, '--normal', empty, '--attack', set.attack], /empty folder/],
    [['evaluate', '--model', model, '--normal', set.normal, '--attack', join(dir, 'missing')], /missing does not exist/],
    [['evaluate', '--model', model, '--normal', set.normal, '--attack', set.attack, '--batch', '0'], /--batch must be a whole number/],
  ];
  for (const [args, message] of cases) {
    const r = await argos(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
