// Benchmark: the single-file binaries' size, start-up time and memory.
//
//   node --import tsx test/bench/binary.ts [--arch x64|arm64] [--runs N] [--throughput] [--json]
//
// Needs the binaries (npm run build:bin). arm64 runs under qemu-aarch64 (with a fake arm64
// /proc/cpuinfo in a private mount namespace, as root), so its times are emulation times.
// Figures, each the median of N runs (min and max beside it):
//   version_ms      `argos --version`: the runtime and the bundled code loading
//   ready_cold_ms   `argos run` (stdin source) until systemd's READY=1, with an empty cache:
//                   unpacking ONNX Runtime, loading the model, opening the database
//   ready_warm_ms   the same with the cache from an earlier start
//   stop_ms         SIGTERM until the process has exited
//   rss_ready_mb    resident memory when READY=1 arrives (under qemu: the emulator's)
//   throughput      with --throughput (x64): `argos replay --json` of the same synthetic
//                   recording (400 processes, about 400,000 syscall events) by the Node build
//                   and by the binary; events per second of pipeline time (start-up excluded)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { writeSyntheticRecording } from '../../src/recording/synthetic.js';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(import.meta.dirname, '../..');
const BUN = join(ROOT, 'node_modules', '.bin', 'bun');
const CPUINFO = join(ROOT, 'test', 'fixtures', 'cpuinfo-arm64-cortex-a72.txt');

interface Spread {
  median: number;
  min: number;
  max: number;
}

const spread = (xs: number[]): Spread => {
  const s = [...xs].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return { median: round(s[Math.floor(s.length / 2)]), min: round(s[0]), max: round(s[s.length - 1]) };
};

function command(arch: string, bin: string, args: string[]): [string, string[]] {
  if (arch === 'x64') return [bin, args];
  const quoted = [bin, ...args].map((a) => `'${a}'`).join(' ');
  return ['unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mount --bind '${CPUINFO}' /proc/cpuinfo && exec qemu-aarch64 -L /usr/aarch64-linux-gnu ${quoted}`]];
}

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The process that runs the binary (for arm64: qemu, the child of unshare's sh after exec). */
function leafPid(pid: number): number {
  for (let i = 0; i < 5; i++) {
    let children: string;
    try {
      children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    } catch {
      return pid;
    }
    if (!children) return pid;
    pid = Number(children.split(' ')[0]);
  }
  return pid;
}

async function startToReady(arch: string, bin: string, env: NodeJS.ProcessEnv, dir: string): Promise<{ readyMs: number; stopMs: number; rss: number }> {
  const socket = join(dir, `notify-${process.hrtime.bigint()}.sock`);
  const receiver = spawn(BUN, [join(ROOT, 'test/helpers/notify-receiver.ts'), socket, '100', '120000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: receiver.stdout });
  const waitLine = (pred: (l: string) => boolean) => new Promise<void>((r) => lines.on('line', (l) => pred(l) && r()));
  await waitLine((l) => l === 'listening');
  const ready = waitLine((l) => l.startsWith('"READY=1'));
  const t0 = performance.now();
  const [cmd, args] = command(arch, bin, ['run', '--source', 'stdin']);
  const child: ChildProcess = spawn(cmd, args, { cwd: dir, env: { ...env, NOTIFY_SOCKET: socket }, stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await Promise.race([ready, exited.then(() => Promise.reject(new Error('argos run exited before READY=1')))]);
  const readyMs = performance.now() - t0;
  const rss = rssMb(leafPid(child.pid!));
  const t1 = performance.now();
  process.kill(leafPid(child.pid!), 'SIGTERM');
  await exited;
  const stopMs = performance.now() - t1;
  receiver.kill();
  return { readyMs, stopMs, rss };
}

/** events/s of `replay FILE --json` (pipeline time from its summary), Node build and binary. */
async function throughput(bin: string, env: NodeJS.ProcessEnv, dir: string, runs: number) {
  const file = join(dir, 'synthetic.jsonl');
  await writeSyntheticRecording(file, { seed: 7, processes: 400, syscallsPerProcess: 1000, concurrency: 32 });
  const replay = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, [...args, 'replay', file, '--json'], { cwd: ROOT, env, encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) throw new Error(`replay failed (${cmd}): ${r.stderr.slice(-2000)}`);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as { events: number; seconds: number };
    return summary.events / summary.seconds;
  };
  const node: number[] = [];
  const binary: number[] = [];
  for (let i = 0; i < runs; i++) {
    node.push(replay(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')]));
    binary.push(replay(bin, []));
  }
  return { node_events_per_s: spread(node), binary_events_per_s: spread(binary) };
}

async function bench(arch: 'x64' | 'arm64', runs: number, withThroughput: boolean) {
  const dist = join(ROOT, 'dist', `argos-linux-${arch}`);
  const dir = mkdtempSync(join(tmpdir(), 'argos-bench-bin-'));
  try {
    const bin = join(dir, `argos-linux-${arch}`);
    copyFileSync(dist, bin);
    const cache = join(dir, 'cache');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      TMPDIR: dir,
      XDG_CACHE_HOME: cache,
      ARGOS_DB_PATH: join(dir, 'argos.db'),
      ARGOS_HTTP_ADDRESS: '127.0.0.1:0',
      ARGOS_LOG_LEVEL: 'warn',
    };
    const version: number[] = [];
    for (let i = 0; i < runs; i++) {
      const [cmd, args] = command(arch, bin, ['--version']);
      const t0 = performance.now();
      const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`--version failed: ${r.stderr}`);
      version.push(performance.now() - t0);
    }
    const cold: number[] = [];
    const warm: number[] = [];
    const stop: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < runs; i++) {
      rmSync(cache, { recursive: true, force: true });
      mkdirSync(cache);
      const c = await startToReady(arch, bin, env, dir);
      cold.push(c.readyMs);
      const w = await startToReady(arch, bin, env, dir);
      warm.push(w.readyMs);
      stop.push(c.stopMs, w.stopMs);
      rss.push(w.rss);
    }
    const bytes = statSync(dist).size;
    return {
      arch,
      binary_bytes: bytes,
      size_mb: Math.round((bytes / 1048576) * 10) / 10,
      version_ms: spread(version),
      ready_cold_ms: spread(cold),
      ready_warm_ms: spread(warm),
      stop_ms: spread(stop),
      rss_ready_mb: spread(rss),
      emulated: arch === 'arm64' && process.arch !== 'arm64',
      runs,
      ...(withThroughput && arch === 'x64' ? { throughput: await throughput(bin, env, dir, runs) } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const argv = process.argv.slice(2);
const arch = (argv.includes('--arch') ? argv[argv.indexOf('--arch') + 1] : 'x64') as 'x64' | 'arm64';
const runs = argv.includes('--runs') ? Number(argv[argv.indexOf('--runs') + 1]) : 5;
if (arch !== 'x64' && arch !== 'arm64') throw new Error('--arch must be x64 or arm64');
const result = await bench(arch, runs, argv.includes('--throughput'));
if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  const f = (s: Spread, unit: string) => `${s.median} ${unit} (${s.min}–${s.max})`;
  process.stdout.write(
    [
      `argos-linux-${arch}${result.emulated ? ' (under qemu-aarch64)' : ''}: ${result.size_mb} MiB`,
      `  --version          ${f(result.version_ms, 'ms')}`,
      `  run → READY=1 cold ${f(result.ready_cold_ms, 'ms')}`,
      `  run → READY=1 warm ${f(result.ready_warm_ms, 'ms')}`,
      `  SIGTERM → exit     ${f(result.stop_ms, 'ms')}`,
      `  RSS at ready       ${f(result.rss_ready_mb, 'MiB')}`,
      ...(result.throughput
        ? [
            `  replay, Node       ${f(result.throughput.node_events_per_s, 'events/s')}`,
            `  replay, binary     ${f(result.throughput.binary_events_per_s, 'events/s')}`,
          ]
        : []),
      '',
    ].join('\n'),
  );
}
