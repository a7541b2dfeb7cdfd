// build/setup.sh with fake package tools on PATH: when it installs mosquitto, it leaves the
// system's broker service stopped and disabled (the tests run brokers of their own).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';

function fakeTool(bin: string, name: string, log: string, script = 'exit 0'): void {
  const path = join(bin, name);
  writeFileSync(path, `#!/bin/sh\necho "${name} $*" >> '${log}'\n${script}\n`);
  chmodSync(path, 0o755);
}

void test('setup.sh installing mosquitto stops and disables mosquitto.service', (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('setup.sh installs Debian packages only as root');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'argos-setup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'bin');
  const log = join(dir, 'calls.log');
  mkdirSync(bin);
  mkdirSync(join(dir, 'repo', 'build'), { recursive: true });
  mkdirSync(join(dir, 'repo', 'node_modules'), { recursive: true });
  copyFileSync(join(ROOT, 'build/setup.sh'), join(dir, 'repo', 'build', 'setup.sh'));
  const lock = '{"lockfileVersion":3}\n';
  writeFileSync(join(dir, 'repo', 'package-lock.json'), lock);
  // npm packages already set up for this lock file: only the Debian side runs.
  writeFileSync(join(dir, 'repo', 'node_modules', '.argos-setup'), `${createHash('sha256').update(lock).digest('hex')}\n`);
  // Every package is there except mosquitto.
  fakeTool(bin, 'dpkg', log, 'case "$*" in *" mosquitto") exit 1;; esac; exit 0');
  fakeTool(bin, 'apt-get', log);
  fakeTool(bin, 'systemctl', log);
  fakeTool(bin, 'service', log);
  const r = spawnSync('bash', [join(dir, 'repo', 'build', 'setup.sh'), '--with-test-tools'], {
    encoding: 'utf8',
    env: { PATH: `${bin}:/usr/bin:/bin` },
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const calls = readFileSync(log, 'utf8').split('\n');
  const install = calls.findIndex((c) => /^apt-get install .*--no-install-recommends .*\bmosquitto$/.test(c));
  assert.ok(install >= 0, calls.join('\n'));
  assert.ok(calls.includes('systemctl stop mosquitto.service'), calls.join('\n'));
  assert.ok(calls.includes('systemctl disable mosquitto.service'), calls.join('\n'));
  assert.ok(calls.indexOf('systemctl disable mosquitto.service') > install);
});
