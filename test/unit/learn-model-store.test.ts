import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ModelStore, ModelStoreError, CURRENT_FILE } from '../../src/learn/model-store.js';
import { loadModel } from '../../src/model/folder.js';
import { tempRoot } from '../integration/onnx-models.js';

const root = tempRoot('argos-model-store-');
after(() => rmSync(root, { recursive: true, force: true }));
const SHIPPED = resolve('models/default');

/** A staging folder holding a complete copy of the shipped model, as a training leaves it. */
function trained(store: ModelStore): string {
  const dir = store.staging();
  cpSync(SHIPPED, dir, { recursive: true });
  return dir;
}

void test('installs versions in order, points current at the newest, and keeps the last three (and the one in use)', async () => {
  const store = new ModelStore(join(root, 'keep'));
  store.open();
  assert.equal(store.current(), undefined, 'a new device has no model of its own');
  for (let i = 1; i <= 5; i++) {
    const v = store.install(trained(store));
    assert.equal(v.version, i);
    assert.equal(store.current()?.version, i);
  }
  assert.deepEqual(
    store.list().map((m) => m.version),
    [3, 4, 5],
  );
  store.use(3);
  store.install(trained(store));
  assert.deepEqual(
    store.list().map((m) => m.version),
    [4, 5, 6],
    'the newest three stay',
  );
  const m = await loadModel({ dir: store.dirOf(6) });
  assert.equal(m.card.name, JSON.parse(readFileSync(join(SHIPPED, 'model.json'), 'utf8')).name);
  assert.equal(readdirSync(store.dir).filter((n) => n.startsWith('.staging-')).length, 0, 'no staging folder is left behind');
});

void test('a version numbers past every folder on disk, even an incomplete one', () => {
  const store = new ModelStore(join(root, 'numbers'));
  store.open();
  mkdirSync(store.dirOf(7));
  assert.equal(store.install(trained(store)).version, 8);
});

void test('what a crash leaves mid-write is never loaded: an unfinished staging folder, a half-written pointer', () => {
  const dir = join(root, 'crash');
  const store = new ModelStore(dir);
  store.open();
  const v1 = store.install(trained(store));
  // A training cut short: staging with the model but no card. Installing it is refused.
  const partial = store.staging();
  cpSync(join(SHIPPED, 'model.onnx'), join(partial, 'model.onnx'));
  assert.throws(() => store.install(partial), (e: unknown) => e instanceof ModelStoreError && /did not finish/.test(e.message));
  assert.equal(store.current()?.version, v1.version, 'the model in use stays');
  // A crash between writing the pointer's temporary file and renaming it.
  writeFileSync(join(dir, `${CURRENT_FILE}.tmp-deadbeef`), '9\n');
  // A version folder whose model file was never written is not a version.
  mkdirSync(store.dirOf(5));
  writeFileSync(join(store.dirOf(5), 'syscalls.csv'), 'read,2\n');
  const reopened = new ModelStore(dir);
  reopened.open();
  assert.ok(!existsSync(partial), 'the unfinished staging folder is removed at start');
  assert.ok(!existsSync(join(dir, `${CURRENT_FILE}.tmp-deadbeef`)), 'the unfinished pointer is removed at start');
  assert.equal(reopened.current()?.version, 1);
  assert.deepEqual(
    reopened.list().map((m) => m.version),
    [1],
  );
});

void test('the pointer: rollback to an installed version, back to the generic model, a clear error for a missing one', () => {
  const store = new ModelStore(join(root, 'pointer'));
  store.open();
  store.install(trained(store));
  store.install(trained(store));
  store.use(1);
  assert.equal(store.current()?.version, 1);
  assert.throws(() => store.use(4), (e: unknown) => e instanceof ModelStoreError && /no model version 4/.test(e.message) && /installed: 1, 2/.test(e.message));
  assert.equal(store.current()?.version, 1, 'a refused rollback changes nothing');
  store.use(undefined);
  assert.equal(store.current(), undefined);
  // A pointer at a version that is gone means the generic model.
  writeFileSync(join(store.dir, CURRENT_FILE), '3\n');
  assert.equal(store.current(), undefined);
});

void test('a state folder that cannot be created is a clear error naming the setting', () => {
  const file = join(root, 'a-file');
  writeFileSync(file, 'x');
  const store = new ModelStore(join(file, 'models'));
  assert.throws(() => store.open(), (e: unknown) => e instanceof ModelStoreError && /cannot create the folder of this device's models/.test(e.message) && /ARGOS_STATE_DIR/.test(e.message));
  assert.equal(store.current(), undefined, 'reading a missing folder is no error: the generic model');
});
