import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadModel, ModelError, folderFiles, packagedDefaultFiles, parseCard } from '../../src/model/folder.js';
import { mappingText, tempRoot, testCard, writeModelFolder } from '../integration/onnx-models.js';

const root = tempRoot('argos-model-folder-');
after(() => rmSync(root, { recursive: true, force: true }));

async function rejectsWith(p: Promise<unknown>, ...patterns: RegExp[]): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ModelError, `expected a ModelError, got ${String(e)}`);
    for (const re of patterns) assert.match(e.message, re);
    return e.message;
  }
  assert.fail('expected the model to be refused');
}

void test('a complete folder loads: card, mapping and model bytes', async () => {
  const dir = writeModelFolder(root, 'good');
  const m = await loadModel({ dir });
  assert.equal(m.origin, 'folder');
  assert.equal(m.card.window, 8);
  assert.equal(m.card.vocabulary, 6);
  assert.deepEqual([...m.mapping], [['read', 2], ['write', 3], ['openat', 4], ['close', 5]]);
  assert.ok(m.modelBytes.length > 50);
  assert.deepEqual(m.files, folderFiles(dir));
});

void test('relative folders resolve against the given working directory', async () => {
  writeModelFolder(root, 'rel');
  const m = await loadModel({ dir: 'rel' }, { cwd: root });
  assert.equal(m.files.card, join(root, 'rel', 'model.json'));
});

void test('a missing folder says so and what to set', async () => {
  await rejectsWith(loadModel({ dir: join(root, 'nope') }), /nope: the model folder does not exist/, /ARGOS_MODEL_DIR/, /argos train/);
});

void test('a file given as the folder is refused', async () => {
  const f = join(root, 'plain-file');
  writeFileSync(f, 'x');
  await rejectsWith(loadModel({ dir: f }), /is a file, not a folder/);
});

void test('the bundled default is used without a folder, through a swappable locator', async () => {
  const dir = writeModelFolder(root, 'fake-default');
  const m = await loadModel({}, { defaultFiles: () => folderFiles(dir) });
  assert.equal(m.origin, 'default');
  assert.equal(m.files.model, join(dir, 'model.onnx'));
});

void test('the packaged default folder is models/default in this package', () => {
  assert.equal(packagedDefaultFiles().model, resolve('models/default/model.onnx'));
});

void test('a missing packaged default names the command that makes it', async () => {
  const gone = () => folderFiles(join(root, 'no-such-package', 'models', 'default'));
  await rejectsWith(loadModel({}, { defaultFiles: gone }), /bundled default model is missing/, /train:default/);
});

void test('each missing file is named', async () => {
  for (const [file, what] of [
    ['model.onnx', /ONNX model does not exist/],
    ['syscalls.csv', /syscall mapping does not exist/],
    ['model.json', /model card \(model.json\) does not exist/],
  ] as const) {
    const dir = writeModelFolder(root, `missing-${file}`);
    rmSync(join(dir, file));
    await rejectsWith(loadModel({ dir }), new RegExp(file.replace('.', '\\.')), what);
  }
});

void test('an empty model file is refused', async () => {
  const dir = writeModelFolder(root, 'empty-onnx', { model: new Uint8Array(0) });
  await rejectsWith(loadModel({ dir }), /ONNX model is empty/);
});

void test('a card that is not JSON is refused', async () => {
  const dir = writeModelFolder(root, 'card-not-json', { card: '{ window: 8' });
  await rejectsWith(loadModel({ dir }), /model\.json: the model card is not valid JSON/);
});

void test('a card with missing or wrong fields lists every problem', async () => {
  const card = testCard() as unknown as Record<string, unknown>;
  delete card.window;
  delete card.threshold;
  card.delta = 'four';
  const dir = writeModelFolder(root, 'card-fields', { card: JSON.stringify(card) });
  const msg = await rejectsWith(loadModel({ dir }), /window: missing/, /threshold: missing/, /delta: Invalid input: expected number, received string/);
  assert.doesNotMatch(msg, /\bat \w+ \(/, 'no stack trace in the message');
});

void test('a card whose delta exceeds its window is refused', () => {
  assert.throws(() => parseCard(JSON.stringify(testCard({ delta: 9 })), 'card'), /delta \(9\) must not exceed window \(8\)/);
  assert.throws(() => parseCard(JSON.stringify(testCard({ minWindow: 9 })), 'card'), /minWindow \(9\) must not exceed window/);
});

void test('extra card fields written by newer trainers are kept', () => {
  const card = parseCard(JSON.stringify({ ...testCard(), calibration: { method: 'quantile' } }), 'card') as unknown as Record<string, unknown>;
  assert.deepEqual(card.calibration, { method: 'quantile' });
});

void test('a malformed mapping names the file and line', async () => {
  const dir = writeModelFolder(root, 'bad-mapping', { mapping: 'read,2\nwrite;3\n' });
  await rejectsWith(loadModel({ dir }), /syscalls\.csv:2/, /name,id/);
});

void test('a mapping that does not match the card vocabulary is refused', async () => {
  const dir = writeModelFolder(root, 'vocab-mismatch', { mapping: mappingText(['read', 'write']) });
  await rejectsWith(loadModel({ dir }), /does not match the model/, /vocabulary 4/, /vocabulary 6/, /SYSCALL_MAPPING_PATH/);
});

void test('TRAINED_MODEL_PATH and SYSCALL_MAPPING_PATH override the folder files', async () => {
  const dir = writeModelFolder(root, 'base');
  const other = join(root, 'elsewhere');
  mkdirSync(other);
  const mapping = join(other, 'map.csv');
  writeFileSync(mapping, 'read,2\nwrite,3\nopenat,4\nfstat,5\n');
  const m = await loadModel({ dir, mappingPath: mapping });
  assert.equal(m.origin, 'override');
  assert.equal(m.files.mapping, mapping);
  assert.equal(m.mapping.get('fstat'), 5);
  assert.equal(m.files.card, join(dir, 'model.json'));
});

void test('an overriding model file brings the card beside it when there is one', async () => {
  const a = writeModelFolder(root, 'card-a', { card: testCard({ name: 'from-default' }) });
  const b = writeModelFolder(root, 'card-b', { card: testCard({ name: 'beside-model' }) });
  const m = await loadModel({ modelPath: join(b, 'model.onnx') }, { defaultFiles: () => folderFiles(a) });
  assert.equal(m.card.name, 'beside-model');
  // An explicit folder's card wins over one beside the model file.
  const n = await loadModel({ dir: a, modelPath: join(b, 'model.onnx') });
  assert.equal(n.card.name, 'from-default');
});
