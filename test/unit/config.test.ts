import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../src/config/load.js';
import { parseDuration, parseBytes } from '../../src/config/units.js';
import { renderEnvSample, withSettingsTable } from '../../src/config/sample.js';
import { SETTINGS, configSchema } from '../../src/config/schema.js';

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail('expected a ConfigError');
}

test('defaults apply with an empty environment', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.source, 'managed');
  assert.equal(c.mqttPrefix, 'argos');
  assert.equal(c.window, undefined, 'window defaults to the model card, decided later');
  assert.equal(c.workers, 1);
  assert.equal(c.throttleWindow, 60_000);
  assert.equal(c.retentionSize, 256 * 1024 * 1024);
  assert.ok(c.nodeName && c.nodeName.length > 0, 'node name defaults to the hostname');
});

test('ARGOS HIDS variable names keep working', () => {
  const c = loadConfig({
    env: {
      SLIDING_WINDOW_SIZE: '512',
      SLIDING_WINDOW_DELTA: '128',
      MACHINE_NAME: 'pi-7',
      TRAINED_MODEL_PATH: '/m/model.onnx',
      SYSCALL_MAPPING_PATH: '/m/syscalls.csv',
      MAX_CLASSIFICATION_WORKERS: '2',
      ARGOS_NTFY_TOPIC: 'alerts',
    },
  });
  assert.equal(c.window, 512);
  assert.equal(c.delta, 128);
  assert.equal(c.nodeName, 'pi-7');
  assert.equal(c.modelPath, '/m/model.onnx');
  assert.equal(c.mappingPath, '/m/syscalls.csv');
  assert.equal(c.workers, 2);
  assert.equal(c.ntfyTopic, 'alerts');
});

test('the preferred name wins over its alias', () => {
  const c = loadConfig({ env: { SLIDING_WINDOW_SIZE: '256', ARGOS_WINDOW: '999' } });
  assert.equal(c.window, 256);
});

test('.env < environment < flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-cfg-'));
  try {
    const file = join(dir, '.env');
    writeFileSync(file, 'ARGOS_MQTT_PREFIX=fromfile\nARGOS_BATCH_SIZE=8\nARGOS_QUEUE_MAX=10\n');
    const c = loadConfig({ env: { ARGOS_BATCH_SIZE: '16', ARGOS_QUEUE_MAX: '20' }, envFile: file, flags: { queueMax: 30 } });
    assert.equal(c.mqttPrefix, 'fromfile');
    assert.equal(c.batchSize, 16);
    assert.equal(c.queueMax, 30);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('a missing .env file is fine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-cfg-'));
  try {
    assert.equal(loadConfig({ env: {}, envFile: join(dir, 'nope.env') }).source, 'managed');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('an unreadable .env path (a directory) is reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-cfg-'));
  try {
    const problems = problemsOf(() => loadConfig({ env: {}, envFile: dir }));
    assert.equal(problems.length, 1);
    assert.match(problems[0], /cannot read the env file \(EISDIR\)/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('every error is reported at once, each naming its variable and value', () => {
  const problems = problemsOf(() =>
    loadConfig({
      env: {
        ARGOS_SOURCE: 'carrier-pigeon',
        SLIDING_WINDOW_SIZE: 'abc',
        MAX_CLASSIFICATION_WORKERS: '0',
        ARGOS_MQTT_URL: 'http://broker',
        ARGOS_THROTTLE_WINDOW: 'soon',
        ARGOS_RETENTION_SIZE: 'lots',
        ARGOS_HTTP_ADDRESS: 'everywhere',
        ARGOS_MQTT_PREFIX: 'a/#',
        ARGOS_LOG_LEVEL: 'loud',
        ARGOS_NTFY_SERVER: 'ntfy.sh',
      },
    }),
  );
  const expected: [string, RegExp][] = [
    ['ARGOS_SOURCE', /must be one of managed, export, tetra, stdin, replay, bpftrace \(got "carrier-pigeon"\)/],
    ['SLIDING_WINDOW_SIZE', /must be a number.*"abc"/],
    ['MAX_CLASSIFICATION_WORKERS', /at least 1 \(got "0"\)/],
    ['ARGOS_MQTT_URL', /mqtt:\/\//],
    ['ARGOS_THROTTLE_WINDOW', /not a duration/],
    ['ARGOS_RETENTION_SIZE', /not a size/],
    ['ARGOS_HTTP_ADDRESS', /HOST:PORT/],
    ['ARGOS_MQTT_PREFIX', /wildcards/],
    ['ARGOS_LOG_LEVEL', /loud/],
    ['ARGOS_NTFY_SERVER', /http/],
  ];
  assert.equal(problems.length, expected.length, problems.join('\n'));
  for (const [name, re] of expected) {
    const line = problems.find((p) => p.startsWith(`${name}:`));
    assert.ok(line, `no problem reported for ${name}:\n${problems.join('\n')}`);
    assert.match(line, re);
  }
});

test('cross-field rules', () => {
  const problems = problemsOf(() =>
    loadConfig({
      env: { SLIDING_WINDOW_SIZE: '100', SLIDING_WINDOW_DELTA: '200', ARGOS_SOURCE: 'replay', ARGOS_MQTT_CERT: '/c.pem', ARGOS_MQTT_PASSWORD: 'pw' },
    }),
  );
  assert.equal(problems.length, 4, problems.join('\n'));
  assert.ok(problems.some((p) => /^SLIDING_WINDOW_DELTA: must not exceed the window size \(100\)/.test(p)));
  assert.ok(problems.some((p) => /^ARGOS_REPLAY_FILE: is required/.test(p)));
  assert.ok(problems.some((p) => /ARGOS_MQTT_CERT and ARGOS_MQTT_KEY go together/.test(p)));
  assert.ok(problems.some((p) => /^ARGOS_MQTT_USERNAME: is required when ARGOS_MQTT_PASSWORD/.test(p)));
});

test('a flag error names the flag', () => {
  const problems = problemsOf(() => loadConfig({ env: {}, flags: { batchSize: '-3' } }));
  assert.match(problems[0], /^--batch-size: must be at least 1/);
});

test('units', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('30'), 30_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('7d'), 604_800_000);
  assert.equal(parseDuration('soon'), undefined);
  assert.equal(parseDuration('-1s'), undefined);
  assert.equal(parseBytes('100M'), 100 * 1024 * 1024);
  assert.equal(parseBytes('512k'), 512 * 1024);
  assert.equal(parseBytes('2GB'), 2 * 1024 ** 3);
  assert.equal(parseBytes('12'), 12);
  assert.equal(parseBytes('12x'), undefined);
});

test('every setting is documented once and .env.sample is current', () => {
  const keys = Object.keys(configSchema.shape).sort();
  const documented = SETTINGS.map((s) => s.key).sort();
  assert.deepEqual(documented, keys, 'SETTINGS must list each config key exactly once');
  const names = SETTINGS.flatMap((s) => s.env);
  assert.equal(new Set(names).size, names.length, 'an environment name is used twice');
  const sample = readFileSync(new URL('../../.env.sample', import.meta.url), 'utf8');
  assert.equal(sample, renderEnvSample(), '.env.sample is stale: run npm run gen:env-sample');
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  assert.equal(readme, withSettingsTable(readme), 'the settings table in README.md is stale: run npm run gen:env-sample');
});

test('an empty value is unset, except where empty means off', () => {
  const c = loadConfig({ env: { ARGOS_MQTT_PREFIX: '', ARGOS_HTTP_ADDRESS: '' } });
  assert.equal(c.mqttPrefix, 'argos');
  assert.equal(c.httpAddress, '');
});

test('classifier mode: worker or inline', () => {
  assert.equal(loadConfig({ env: { ARGOS_CLASSIFIER_MODE: 'inline' } }).classifierMode, 'inline');
  const problems = problemsOf(() => loadConfig({ env: { ARGOS_CLASSIFIER_MODE: 'gpu' } }));
  assert.match(problems[0], /^ARGOS_CLASSIFIER_MODE: .*worker.*inline/);
});
