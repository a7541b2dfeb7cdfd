// The systemd unit passes systemd's own checks, and build/install.sh installs, upgrades and
// removes Argos idempotently (below a scratch root: no systemctl involved).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const UNIT = join(ROOT, 'systemd', 'argos.service');
const DROPIN = join(ROOT, 'systemd', 'argos-export.conf');
const INSTALL = join(ROOT, 'build', 'install.sh');

function scratch(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'argos-systemd-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function analyze(args: string[]): { code: number; out: string } {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) assert.fail(`systemd-analyze is needed (Debian package systemd; build/setup.sh --with-test-tools): ${r.error.message}`);
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** A copy of the unit whose ExecStart points at an executable that exists (verify checks it). */
function stagedUnit(dir: string, withDropin: boolean): string {
  const exe = join(dir, 'argos');
  writeFileSync(exe, '#!/bin/sh\nexit 0\n');
  chmodSync(exe, 0o755);
  const unit = join(dir, 'argos.service');
  writeFileSync(unit, readFileSync(UNIT, 'utf8').replace('/usr/local/bin/argos', exe));
  if (withDropin) {
    mkdirSync(join(dir, 'argos.service.d'));
    copyFileSync(DROPIN, join(dir, 'argos.service.d', 'export.conf'));
  }
  return unit;
}

function exposure(out: string): number {
  const m = /Overall exposure level for argos\.service: ([\d.]+)/.exec(out);
  assert.ok(m, `no exposure level in:\n${out.slice(-500)}`);
  return Number(m[1]);
}

void test('systemd-analyze verify accepts the unit and the export drop-in, without warnings', (t) => {
  for (const withDropin of [false, true]) {
    const dir = scratch(t);
    const r = analyze(['verify', stagedUnit(dir, withDropin)]);
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out.trim(), '', `warnings:\n${r.out}`);
  }
});

void test('hardening: exposure at most 4.0 managing Tetragon, 3.0 reading its export file', (t) => {
  const managed = exposure(analyze(['security', '--offline=true', stagedUnit(scratch(t), false)]).out);
  const exported = exposure(analyze(['security', '--offline=true', stagedUnit(scratch(t), true)]).out);
  t.diagnostic(`exposure: managed ${managed}, export ${exported}`);
  assert.ok(managed <= 4.0, `managed exposure ${managed}`);
  assert.ok(exported <= 3.0, `export exposure ${exported}`);
  assert.ok(exported < managed, 'the export variant drops capabilities');
});

void test('the unit is Type=notify with a watchdog, bounded restarts and its own state folder', () => {
  const unit = readFileSync(UNIT, 'utf8');
  for (const line of [
    'Type=notify',
    'NotifyAccess=all',
    'WatchdogSec=60s',
    'Restart=on-failure',
    'RestartPreventExitStatus=78',
    'StartLimitBurst=5',
    'StateDirectory=argos',
    'EnvironmentFile=-/etc/argos/argos.env',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'NoNewPrivileges=yes',
  ]) {
    assert.ok(unit.split('\n').includes(line), `missing ${line}`);
  }
});

function install(root: string, ...args: string[]): string {
  return execFileSync('bash', [INSTALL, '--root', root, ...args], { encoding: 'utf8', timeout: 60_000 });
}

void test('install.sh: installs, is idempotent, keeps settings, switches source, uninstalls', (t) => {
  const dir = scratch(t);
  const root = join(dir, 'root');
  const fake = join(dir, 'argos-linux-test');
  writeFileSync(fake, '#!/bin/sh\necho 9.9.9\n');
  chmodSync(fake, 0o755);
  const at = (p: string) => join(root, p);
  const mode = (p: string) => statSync(at(p)).mode & 0o777;

  let out = install(root, '--binary', fake);
  assert.match(out, /installed .*\/usr\/local\/bin\/argos/);
  assert.match(out, /done: 9\.9\.9/);
  assert.equal(mode('usr/local/bin/argos'), 0o755);
  assert.equal(readFileSync(at('etc/systemd/system/argos.service'), 'utf8'), readFileSync(UNIT, 'utf8'));
  assert.equal(mode('etc/argos/argos.env'), 0o600, 'the env file may hold passwords');
  assert.match(readFileSync(at('etc/argos/argos.env'), 'utf8'), /#ARGOS_MQTT_URL=/, 'the env file documents every setting');
  if (existsSync(join(ROOT, 'config/tetragon/raw-syscalls.yaml'))) {
    assert.ok(existsSync(at('etc/argos/tetragon/raw-syscalls.yaml')));
  }
  assert.ok(!existsSync(at('etc/systemd/system/argos.service.d')), 'managed Tetragon by default');

  // The operator's settings survive a re-run (an upgrade); unchanged files are not rewritten.
  writeFileSync(at('etc/argos/argos.env'), 'ARGOS_MQTT_URL=mqtt://broker:1883\n');
  out = install(root, '--binary', fake);
  assert.doesNotMatch(out, /installed|created/);
  assert.equal(readFileSync(at('etc/argos/argos.env'), 'utf8'), 'ARGOS_MQTT_URL=mqtt://broker:1883\n');

  // An upgrade replaces the binary.
  writeFileSync(fake, '#!/bin/sh\necho 10.0.0\n');
  out = install(root, '--binary', fake);
  assert.match(out, /installed .*argos\n[\s\S]*done: 10\.0\.0/);

  install(root, '--binary', fake, '--export');
  assert.equal(readFileSync(at('etc/systemd/system/argos.service.d/export.conf'), 'utf8'), readFileSync(DROPIN, 'utf8'));
  install(root, '--binary', fake, '--managed');
  assert.ok(!existsSync(at('etc/systemd/system/argos.service.d')));

  out = install(root, '--uninstall');
  assert.match(out, /settings in .* are kept/);
  assert.ok(!existsSync(at('usr/local/bin/argos')));
  assert.ok(!existsSync(at('etc/systemd/system/argos.service')));
  assert.ok(existsSync(at('etc/argos/argos.env')));
  install(root, '--uninstall', '--purge');
  assert.ok(!existsSync(at('etc/argos')));
});

void test('install.sh: a missing binary or an unknown option is a clear error', (t) => {
  const root = join(scratch(t), 'root');
  const missing = spawnSync('bash', [INSTALL, '--root', root, '--binary', '/nonexistent/argos'], { encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /\/nonexistent\/argos does not exist/);
  const unknown = spawnSync('bash', [INSTALL, '--frobnicate'], { encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown option --frobnicate/);
});
