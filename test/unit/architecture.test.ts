// The import directions of docs/architecture.md are enforced by the linter (eslint.config.js):
// a stage that imports a later stage, or the CLI, fails `npm run check`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';

type FlatConfig = Linter.Config;

// The project's own lint configuration (plain JavaScript, so typed here by what it exports).
const configPath: string = '../../eslint.config.js';
const { default: config } = (await import(configPath)) as { default: FlatConfig[] };

function importRules(): FlatConfig[] {
  const entries = config.filter((c) => c.rules !== undefined && 'no-restricted-imports' in c.rules);
  return [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser as Linter.Parser } }, ...entries];
}

function problems(file: string, from: string): string[] {
  const linter = new Linter({ configType: 'flat', cwd: process.cwd() });
  const code = `import type { X } from '${from}';\nexport type Y = X;\n`;
  return linter.verify(code, importRules(), { filename: `${process.cwd()}/${file}` }).map((m) => m.message);
}

void test('imports that point back up the data flow are refused, with the allowed folders named', () => {
  const [store] = problems('src/store/store.ts', '../alerter/alerter.js');
  assert.match(store, /src\/store\/ may import only from src\/core\//);
  assert.equal(problems('src/tracker/tracker.ts', '../parser/index.js').length, 1, 'tracker does not read the parser');
  assert.equal(problems('src/daemon/pipeline.ts', '../cli/errors.js').length, 1, 'nothing imports the CLI');
  assert.equal(problems('src/sources/bpftrace/events.ts', '../../config/load.js').length, 1, 'nested folders too');
  assert.equal(problems('src/model/train.ts', '../detector/onnx-classifier.js').length, 1, 'training gets ONNX Runtime passed in');
});

void test('imports along the data flow and of the contract are allowed', () => {
  assert.deepEqual(problems('src/store/store.ts', '../core/alert.js'), []);
  assert.deepEqual(problems('src/detector/detector.ts', '../model/folder.js'), []);
  assert.deepEqual(problems('src/sources/bpftrace/events.ts', '../../core/types.js'), []);
  assert.deepEqual(problems('src/sources/bpftrace/events.ts', '../lines.js'), []);
  assert.deepEqual(problems('src/daemon/pipeline.ts', '../store/store.js'), []);
  assert.deepEqual(problems('src/cli/commands/run.ts', '../../daemon/index.js'), []);
});
