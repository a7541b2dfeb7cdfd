// The single-file binaries: built once (reused while their inputs are unchanged), each copied
// alone into an empty folder, run `argos replay --demo --json` and must find what the Node
// build finds. x64 runs directly; arm64 under qemu-user with a fake arm64 /proc/cpuinfo
// (ONNX Runtime reads it; under emulation the host's x86 one is there) bind-mounted inside
// a private mount namespace. Neither may leave files in $TMPDIR; the native library they
// unpack goes to the cache and is reused by the next start.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BUN = join(ROOT, 'node_modules', '.bin', 'bun');
const CPUINFO = join(ROOT, 'test', 'fixtures', 'cpuinfo-arm64-cortex-a72.txt');
const SUMMARY_KEYS = ['events', 'malformed', 'syscalls', 'processes', 'windows', 'alerts'] as const;
const QEMU_LIBS = '/usr/aarch64-linux-gnu';

type Summary = Record<(typeof SUMMARY_KEYS)[number], number> & { seconds: number };

function scratch(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'argos-binary-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function check(r: SpawnSyncReturns<string>, what: string): string {
  if (r.error) assert.fail(`${what}: ${r.error.message}`);
  assert.equal(r.status, 0, `${what} exited ${r.status} ${r.signal ?? ''}\n${r.stderr.slice(-3000)}`);
  return r.stdout;
}

function lastJson(out: string): Summary {
  const line = out.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Summary;
}

let nodeSummary: Summary;

before(() => {
  const built = spawnSync(BUN, ['build/build-bin.ts', '--arch', 'all', '--if-changed'], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  check(built, 'npm run build:bin');
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'replay', '--demo', '--json'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, ARGOS_LOG_LEVEL: 'warn' },
  });
  nodeSummary = lastJson(check(r, 'node replay --demo'));
  assert.ok(nodeSummary.events > 0 && nodeSummary.windows > 0 && nodeSummary.alerts > 0, `the demo finds alerts: ${JSON.stringify(nodeSummary)}`);
});

interface Sandbox {
  work: string;
  tmp: string;
  cache: string;
  bin: string;
}

/** An empty folder holding only the binary, with its own empty $TMPDIR and cache. */
function sandbox(t: { after(fn: () => void): void }, arch: 'x64' | 'arm64'): Sandbox {
  const dir = scratch(t);
  const s = { work: join(dir, 'work'), tmp: join(dir, 'tmp'), cache: join(dir, 'cache'), bin: '' };
  for (const d of [s.work, s.tmp]) mkdirSync(d);
  s.bin = join(s.work, `argos-linux-${arch}`);
  copyFileSync(join(ROOT, 'dist', `argos-linux-${arch}`), s.bin);
  return s;
}

function env(s: Sandbox): NodeJS.ProcessEnv {
  // The database inside the sandbox: nothing may land in /var/lib/argos.
  return { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: join(s.work, 'home-unused'), TMPDIR: s.tmp, XDG_CACHE_HOME: s.cache, ARGOS_LOG_LEVEL: 'warn', ARGOS_DB_PATH: join(s.work, 'db', 'argos.db') };
}

function runX64(s: Sandbox, args: string[]): SpawnSyncReturns<string> {
  return spawnSync(s.bin, args, { cwd: s.work, env: env(s), encoding: 'utf8', timeout: 300_000 });
}

function runArm64(s: Sandbox, args: string[]): SpawnSyncReturns<string> {
  const quoted = [s.bin, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `mount --bind '${CPUINFO}' /proc/cpuinfo && exec qemu-aarch64 -L ${QEMU_LIBS} ${quoted}`;
  return spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { cwd: s.work, env: env(s), encoding: 'utf8', timeout: 900_000 });
}

function assertSameFindings(got: Summary, arch: string): void {
  for (const k of SUMMARY_KEYS) assert.equal(got[k], nodeSummary[k], `${arch} ${k}: binary ${got[k]}, Node ${nodeSummary[k]}`);
}

function cacheState(s: Sandbox): { dirs: string[]; stamp: number } {
  const root = join(s.cache, 'argos');
  const dirs = readdirSync(root).sort();
  const ort = dirs.find((d) => d.startsWith('ort-'));
  assert.ok(ort, `ONNX Runtime unpacked into the cache (${dirs.join(', ')})`);
  return { dirs, stamp: statSync(join(root, ort, '.complete')).mtimeMs };
}

void test('x64 binary alone in an empty folder: same findings as Node, nothing left in $TMPDIR, cache reused', (t) => {
  const s = sandbox(t, 'x64');
  const first = lastJson(check(runX64(s, ['replay', '--demo', '--json']), 'x64 replay'));
  assertSameFindings(first, 'x64');
  assert.deepEqual(readdirSync(s.tmp), [], '$TMPDIR is left empty');
  assert.deepEqual(readdirSync(s.work), ['argos-linux-x64'], 'nothing written next to the binary');
  const before1 = cacheState(s);
  assert.deepEqual(before1.dirs.map((d) => d.replace(/-[0-9a-f]+$/, '')), ['assets', 'ort']);

  const second = lastJson(check(runX64(s, ['replay', '--demo', '--json']), 'x64 replay again'));
  assertSameFindings(second, 'x64 (second run)');
  assert.deepEqual(cacheState(s), before1, 'the second start reuses the unpacked files');
  assert.deepEqual(readdirSync(s.tmp), []);
  t.diagnostic(`x64 replay: ${first.seconds.toFixed(2)} s pipeline time (Node ${nodeSummary.seconds.toFixed(2)} s)`);
});

void test('x64 binary: telemetry off, Bun runtime, embedded model usable (doctor)', (t) => {
  const s = sandbox(t, 'x64');
  const r = runX64(s, ['doctor', '--json', '--timeout', '2000']);
  const out = JSON.parse(r.stdout) as { checks: { name: string; status: string; detail: string }[] };
  const by = new Map(out.checks.map((c) => [c.name, c]));
  assert.match(by.get('runtime')!.detail, /^Bun [\d.]+ \(single binary\) on linux-x64; ORT telemetry off$/);
  assert.equal(by.get('model')!.status, 'ok', by.get('model')!.detail);
  assert.match(by.get('model')!.detail, /\(bundled default\)/);
  assert.match(by.get('database')!.detail, /does not exist yet/);
  assert.equal(existsSync(join(s.work, 'db')), false, 'doctor creates no database and no folder');
  assert.deepEqual(readdirSync(s.tmp), []);
});

void test('x64 binary runs its managed Tetragon with the embedded policy, and stops it on SIGTERM', async (t) => {
  const s = sandbox(t, 'x64');
  const outside = join(s.work, '..');
  const fakeLog = join(outside, 'fake-tetragon.log');
  const child = spawn(s.bin, ['run'], {
    cwd: s.work,
    env: {
      ...env(s),
      // The stand-in for tetragon is a node script.
      PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
      ARGOS_LOG_LEVEL: 'info',
      ARGOS_TETRAGON_BIN: join(ROOT, 'test', 'fixtures', 'fake-tetragon'),
      ARGOS_TETRAGON_EXPORT_FILE: join(outside, 'export.log'),
      ARGOS_DB_PATH: join(outside, 'argos.db'),
      ARGOS_HTTP_ADDRESS: '127.0.0.1:0',
      FAKE_TETRAGON_EXIT_AFTER: 'never',
      FAKE_TETRAGON_LOG: fakeLog,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const lines: string[] = [];
  const running = new Promise<boolean>((resolveRunning) => {
    createInterface({ input: child.stderr! }).on('line', (l) => {
      lines.push(l);
      if (/"msg":"running"/.test(l)) resolveRunning(true);
    });
    void exited.then(() => resolveRunning(false));
    setTimeout(() => resolveRunning(false), 60_000).unref();
  });
  assert.equal(await running, true, `argos run did not report running:\n${lines.join('\n').slice(-3000)}`);
  const start = readFileSync(fakeLog, 'utf8').split('\n').find((l) => l.startsWith('start '));
  assert.ok(start, 'tetragon was started');
  const args = JSON.parse(start.slice(start.indexOf('['))) as string[];
  const policy = args[args.indexOf('--tracing-policy') + 1];
  assert.match(policy, new RegExp(`^${s.cache.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/argos/assets-[0-9a-f]+/config/tetragon/raw-syscalls\\.yaml$`), 'the policy unpacked from the binary');
  child.kill('SIGTERM');
  assert.equal(await exited, 143, '128 + SIGTERM after a clean stop');
  assert.match(readFileSync(fakeLog, 'utf8'), /^term \d+$/m, 'Tetragon got SIGTERM');
  assert.deepEqual(readdirSync(s.tmp), []);
});

void test('arm64 binary under qemu-aarch64: same findings as Node', (t) => {
  const missing = ['/usr/bin/qemu-aarch64', `${QEMU_LIBS}/lib/ld-linux-aarch64.so.1`, `${QEMU_LIBS}/lib/libstdc++.so.6`].filter((f) => !existsSync(f));
  assert.deepEqual(missing, [], 'needs Debian packages qemu-user, libc6-arm64-cross, libstdc++6-arm64-cross (build/setup.sh --with-test-tools)');
  const s = sandbox(t, 'arm64');
  const got = lastJson(check(runArm64(s, ['replay', '--demo', '--json']), 'arm64 replay under qemu'));
  assertSameFindings(got, 'arm64');
  assert.deepEqual(readdirSync(s.tmp), [], '$TMPDIR is left empty');
  cacheState(s);
  t.diagnostic(`arm64 replay under emulation: ${got.seconds.toFixed(2)} s pipeline time`);
});
