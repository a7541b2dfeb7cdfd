// `argos config`: its text output is a settings file that reads back as the same settings
// (durations and sizes with their units), and no secret is printed, not even inside a URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { runInProcess } from '../helpers/cli.js';
import { formatBytes, formatDuration, parseBytes, parseDuration } from '../../src/config/units.js';
import { redactUrlCredentials } from '../../src/core/sanitize.js';

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'argos-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

void test('durations and sizes print with units and parse back to the same number', () => {
  assert.equal(formatDuration(60_000), '1m');
  assert.equal(formatDuration(10_000), '10s');
  assert.equal(formatDuration(30 * 86_400_000), '30d');
  assert.equal(formatDuration(1500), '1500ms');
  assert.equal(formatDuration(0), '0ms');
  assert.equal(formatBytes(256 * 1024 * 1024), '256M');
  assert.equal(formatBytes(1000), '1000');
  fc.assert(fc.property(fc.nat({ max: 10 * 365 * 86_400_000 }), (ms) => parseDuration(formatDuration(ms)) === ms));
  fc.assert(fc.property(fc.nat({ max: 2 ** 40 }), (n) => parseBytes(formatBytes(n)) === n));
});

void test('argos config output used as --env-file gives identical settings', async (t) => {
  const dir = scratch(t);
  const env = {
    ARGOS_THROTTLE_WINDOW: '90s',
    ARGOS_DRAIN_TIMEOUT: '2500ms',
    ARGOS_RETENTION_AGE: '7d',
    ARGOS_RETENTION_SIZE: '100M',
    ARGOS_MQTT_STATS_INTERVAL: '5m',
    ARGOS_TETRAGON_ARGS: '--foo bar #not-a-comment',
    ARGOS_HTTP_ADDRESS: '',
    ARGOS_NODE_NAME: "edge 1's box",
    ARGOS_MQTT_URL: 'mqtt://broker.example:1883',
    ARGOS_DB_PATH: '/data/argos.db',
  };
  const first = await runInProcess(['config', '--env-file', join(dir, 'none.env')], { env, cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^ARGOS_THROTTLE_WINDOW=90s$/m);
  assert.match(first.stdout, /^ARGOS_DRAIN_TIMEOUT=2500ms$/m);
  assert.match(first.stdout, /^ARGOS_RETENTION_SIZE=100M$/m);
  assert.match(first.stdout, /^ARGOS_LEARN_DURATION=1h$/m, 'defaults too');
  const file = join(dir, 'printed.env');
  writeFileSync(file, first.stdout);
  const second = await runInProcess(['config', '--env-file', file], { env: {}, cwd: dir });
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, first.stdout);
  const json = async (e: Record<string, string>, envFile: string) => JSON.parse((await runInProcess(['config', '--json', '--env-file', envFile], { env: e, cwd: dir })).stdout) as unknown;
  assert.deepEqual(await json({}, file), await json(env, join(dir, 'none.env')));
});

void test('credentials inside URLs are never printed by argos config', async (t) => {
  const dir = scratch(t);
  const env = {
    ARGOS_MQTT_URL: 'mqtt://u:s3cret-pw@broker:1883',
    ARGOS_MQTT_USERNAME: 'u',
    ARGOS_MQTT_PASSWORD: 'other-secret',
    ARGOS_NTFY_SERVER: 'https://admin:hunter2@ntfy.example/?auth=tok-123',
    ARGOS_NTFY_TOKEN: 'tk_abc',
  };
  for (const args of [['config'], ['config', '--json']]) {
    const r = await runInProcess([...args, '--env-file', join(dir, 'none.env')], { env, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    for (const secret of ['s3cret-pw', 'other-secret', 'hunter2', 'tok-123', 'tk_abc']) assert.ok(!r.stdout.includes(secret), `${args.join(' ')} printed ${secret}`);
    assert.match(r.stdout, /mqtt:\/\/u:redacted@broker:1883/);
  }
});

void test('redactUrlCredentials keeps the rest of the text', () => {
  assert.equal(redactUrlCredentials('connect to mqtts://user:p%40ss@host:8883/x failed'), 'connect to mqtts://user:redacted@host:8883/x failed');
  assert.equal(redactUrlCredentials('"url":"ws://a:b@h/mqtt"'), '"url":"ws://a:redacted@h/mqtt"');
  assert.equal(redactUrlCredentials('https://ntfy.sh/topic?auth=abc&x=1'), 'https://ntfy.sh/topic?auth=redacted&x=1');
  assert.equal(redactUrlCredentials('mqtt://broker:1883 and no secret'), 'mqtt://broker:1883 and no secret');
  fc.assert(
    fc.property(fc.webUrl({ withQueryParameters: true }), fc.string({ minLength: 1 }).filter((p) => !/[\s/@"]/.test(p)), (url, password) => {
      const withPw = url.replace('://', `://user:${password}@`);
      return !redactUrlCredentials(`x ${withPw} y`).includes(`:${password}@`);
    }),
  );
});
