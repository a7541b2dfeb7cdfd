// Lint: type-aware rules that catch the bugs a daemon cannot afford
// (floating promises, non-exhaustive switches over event kinds).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Which folders of src/ each folder may import from (docs/architecture.md draws the same map).
// Imports point one way: from the composition roots (cli, daemon, doctor, hub) down the data
// flow to the contract in core. A backwards import fails `npm run check`.
const LAYERS = {
  core: [],
  syscalls: ['core'],
  config: ['core'],
  runtime: ['core'],
  recording: ['core', 'syscalls'],
  parser: ['core', 'syscalls'],
  tracker: ['core'],
  model: ['core', 'syscalls', 'tracker', 'runtime'],
  detector: ['core', 'syscalls', 'model', 'runtime'],
  alerter: ['core'],
  store: ['core'],
  reporters: ['core'],
  sources: ['core', 'syscalls', 'runtime'],
  health: ['core', 'runtime'],
  learn: ['core', 'syscalls', 'tracker', 'model', 'store', 'runtime'],
  daemon: ['core', 'syscalls', 'config', 'runtime', 'parser', 'tracker', 'model', 'detector', 'alerter', 'store', 'reporters', 'sources', 'health', 'learn'],
  doctor: ['core', 'syscalls', 'config', 'runtime', 'parser', 'tracker', 'model', 'detector', 'alerter', 'store', 'reporters', 'sources', 'health', 'learn'],
  hub: ['core', 'config', 'runtime', 'store'],
  cli: null, // the entry point: may import anything
};

/** One no-restricted-imports rule per folder and nesting depth: relative imports that climb back to src/ and name a folder not allowed. */
function importDirections() {
  const all = Object.keys(LAYERS);
  const configs = [];
  for (const [folder, allowed] of Object.entries(LAYERS)) {
    if (allowed === null) continue;
    const banned = all.filter((f) => f !== folder && !allowed.includes(f));
    if (banned.length === 0 && allowed.length === all.length - 1) continue;
    for (let depth = 1; depth <= 3; depth++) {
      const up = '\\.\\./'.repeat(depth);
      configs.push({
        files: [`src/${folder}/${'*/'.repeat(depth - 1)}*.ts`],
        rules: {
          'no-restricted-imports': [
            'error',
            {
              patterns: [
                {
                  regex: `^${up}(${banned.join('|')})(/|\\.js$)`,
                  message: `src/${folder}/ may import only from ${allowed.length ? allowed.map((f) => `src/${f}/`).join(', ') : 'itself'} (docs/architecture.md).`,
                },
              ],
            },
          ],
        },
      });
    }
  }
  return configs;
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'models/**', 'eslint.config.js', '.tmp*/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test()/describe() return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-control-regex': 'off',
    },
  },
  ...importDirections(),
  // The hub's dashboard: plain browser JavaScript, served as is (no build step, no types).
  {
    files: ['src/hub/web/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      sourceType: 'script',
      parserOptions: { projectService: false },
      globals: { document: 'readonly', sessionStorage: 'readonly', fetch: 'readonly', URLSearchParams: 'readonly', FormData: 'readonly', Node: 'readonly', setInterval: 'readonly', uPlot: 'readonly' },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, 'no-restricted-syntax': ['error', { selector: "AssignmentExpression[left.property.name='innerHTML'], AssignmentExpression[left.property.name='outerHTML'], CallExpression[callee.property.name='insertAdjacentHTML']", message: 'host strings are hostile: build elements with textContent, never markup' }] },
  },
);
