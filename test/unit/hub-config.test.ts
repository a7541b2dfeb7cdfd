// The hub's settings: what `argos hub` requires is reported with every other problem at once,
// secrets are never repeated in a message, and redacted wherever the configuration is shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { HUB_REQUIRED, checkHubConfig } from '../../src/hub/index.js';
import { redactConfig } from '../../src/cli/config-options.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ env, required: HUB_REQUIRED });
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  return [];
}

void test('missing broker and token, and bad values, all reported together; secrets never echoed', () => {
  const p = problems({ ARGOS_HUB_TOKEN: 'tooshort-secret', ARGOS_HUB_DATABASE_URL: 'mysql://u:pw@db/x', ARGOS_HUB_CONNECTIONS: '0', ARGOS_HUB_GROUP: 'a/b' });
  assert.equal(p.length, 5, p.join('\n'));
  assert.ok(p.some((x) => x.startsWith('ARGOS_MQTT_URL: is required')));
  assert.ok(p.some((x) => x.startsWith('ARGOS_HUB_TOKEN: must be at least 16')));
  assert.ok(p.some((x) => x.startsWith('ARGOS_HUB_DATABASE_URL: must be a postgres://')));
  assert.ok(p.some((x) => x.startsWith('ARGOS_HUB_CONNECTIONS: must be at least 1')));
  assert.ok(p.some((x) => x.startsWith('ARGOS_HUB_GROUP:') && x.includes('"a/b"')), 'a plain setting shows what was given');
  assert.ok(!p.join('\n').includes('tooshort-secret') && !p.join('\n').includes('pw@'), 'no secret in the messages');
  assert.deepEqual(problems({ ARGOS_MQTT_URL: 'mqtt://b', ARGOS_HUB_TOKEN: 'x'.repeat(16), ARGOS_HUB_READ_TOKEN: 'x'.repeat(16) }), ['ARGOS_HUB_READ_TOKEN: must differ from ARGOS_HUB_TOKEN']);
});

void test('defaults, and a configuration built without the requirements is still refused by the hub', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.hubHttp, '127.0.0.1:8480');
  assert.equal(c.hubDatabaseUrl, '/var/lib/argos/hub.db');
  assert.equal(c.hubGroup, 'argos-hub');
  assert.equal(c.hubConnections, 16);
  assert.throws(() => checkHubConfig(c), (e: ConfigError) => e.problems.length === 2);
  const ok = loadConfig({ env: { ARGOS_MQTT_URL: 'mqtt://b', ARGOS_HUB_TOKEN: 'operator-secret-123456', ARGOS_HUB_DATABASE_URL: 'postgres://argos:db-secret@db:5432/argos' }, required: HUB_REQUIRED });
  assert.doesNotThrow(() => checkHubConfig(ok));
  const shown = JSON.stringify(redactConfig(ok));
  assert.ok(!shown.includes('operator-secret') && !shown.includes('db-secret'), shown);
  assert.match(shown, /postgres:\/\/argos:redacted@db:5432\/argos/);
});
