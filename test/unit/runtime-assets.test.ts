import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { assetExists, checkoutRoot, embeddedAssetPaths, readAsset, registerEmbeddedAssets, resolveAsset } from '../../src/runtime/assets.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

void test('in a checkout, assets are the files on disk', () => {
  registerEmbeddedAssets(undefined);
  assert.equal(checkoutRoot(), ROOT);
  assert.equal(resolveAsset('models/demo'), join(ROOT, 'models', 'demo'));
  assert.ok(assetExists('package.json'));
  assert.equal(readAsset('package.json').toString('utf8'), readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.equal(assetExists('models/none-such'), false);
  assert.throws(() => resolveAsset('models/none-such'), /models\/none-such is missing from this checkout/);
  assert.deepEqual(embeddedAssetPaths(), []);
});

void test('paths outside the distribution are refused', () => {
  for (const bad of ['../etc/passwd', '/etc/passwd', '', '.', 'models/../../x']) {
    assert.throws(() => resolveAsset(bad), /is not a path inside the Argos distribution/, bad);
  }
});

void test('embedded assets are unpacked once into the cache, as files and folders', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-assets-'));
  t.after(() => {
    registerEmbeddedAssets(undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  // Stand-ins for the binary's embedded files (Bun serves them from a virtual folder).
  const src = join(dir, 'bunfs');
  mkdirSync(src);
  writeFileSync(join(src, 'model-abc.onnx'), 'ONNX');
  writeFileSync(join(src, 'model-def.json'), '{"name":"m"}');
  writeFileSync(join(src, 'raw-syscalls-123.yaml'), 'kind: TracingPolicy\n');
  registerEmbeddedAssets({
    key: 'k1',
    files: {
      'models/default/model.onnx': join(src, 'model-abc.onnx'),
      'models/default/model.json': join(src, 'model-def.json'),
      'config/tetragon/raw-syscalls.yaml': join(src, 'raw-syscalls-123.yaml'),
    },
  });
  const cacheEnv = { env: { ARGOS_CACHE_DIR: join(dir, 'cache') }, execPath: join(dir, 'argos'), uid: 1000 };
  assert.deepEqual(embeddedAssetPaths(), ['config/tetragon/raw-syscalls.yaml', 'models/default/model.json', 'models/default/model.onnx']);
  assert.equal(readAsset('models/default/model.json').toString(), '{"name":"m"}', 'read without unpacking');
  assert.equal(existsSync(join(dir, 'cache')), false);

  const model = resolveAsset('models/default', cacheEnv);
  assert.equal(model, join(dir, 'cache', 'assets-k1', 'models', 'default'));
  assert.deepEqual(readdirSync(model).sort(), ['model.json', 'model.onnx']);
  const policy = resolveAsset('config/tetragon/raw-syscalls.yaml', cacheEnv);
  assert.equal(readFileSync(policy, 'utf8'), 'kind: TracingPolicy\n');
  assert.ok(assetExists('models/default') && assetExists('models/default/model.onnx'));
  assert.equal(assetExists('models/demo'), false);
  assert.throws(() => resolveAsset('models/demo', cacheEnv), /models\/demo is not embedded in this binary \(it has: config\/tetragon\/raw-syscalls\.yaml, /);
});
