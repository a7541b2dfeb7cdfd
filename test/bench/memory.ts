// Benchmark: resident memory of the daemon as users run it, idle and with 10,000 live processes.
//
//   node --import tsx test/bench/memory.ts [--json] [--runs N] [--processes N]
//        [--builds binary,node,tsx] [--env NAME=VALUE ...] [--node-flags "FLAGS"] [--breakdown]
//
// Each run starts a fresh `argos run --source stdin` (HTTP endpoint on a free 127.0.0.1 port, a
// temporary database, default model and configuration) of one build:
//   binary  dist/argos-linux-x64 (npm run build:bin), the single file shipped to devices
//   node    node dist/src/cli/main.js (npm run build), the npm package
//   tsx     node --import tsx src/cli/main.ts, the development loader (not what users run)
// and reads the daemon's /proc/<pid>/status:
//   idle    VmRSS once /healthz answers and the process has been quiet for a moment.
//   procs   then, on its stdin, for each of N processes (default 10,000) a full-size exec event
//           (pod context, long command line), then window + delta/2 sys_enter events each
//           (full-size lines), processes interleaved in bursts of 16, so every process ends
//           with a full ring and one window scored. No process exits. Once /metrics shows N
//           tracked, N windows and an empty classifier queue (the pause before any exit):
//           VmRSS (current) and VmHWM (peak over the run), with RssAnon (private) and
//           RssFile (pages of the binary and libraries, shared and reclaimable) beside them.
//   settled then 10 s with nothing fed, the processes still tracked: VmRSS again (what remains
//           once the runtime has collected the garbage of feeding 11.5 million events at
//           full speed). Then stdin closes and the daemon stops.
// No GC is forced: the figures are what the kernel sees, as on a device.
// `--env` adds settings to every daemon (e.g. ARGOS_CLASSIFIER_MODE=inline); `--node-flags`
// goes into NODE_OPTIONS of the node and tsx builds (e.g. --max-semi-space-size=2).
// `--breakdown` adds the in-process view (same runtime as this script, `--expose-gc`): RSS
// before the pipeline is built, JS heap and array buffers idle and with the processes.
// Figures are medians over `runs` daemons, with min and max. The top-level figures are the
// first build's (the binary by default).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/logger.js';
import type { EventSource, LineSink } from '../../src/core/types.js';
import { buildPipeline } from '../../src/daemon/index.js';
import { execLine, syscallLine, rfc3339Nanos, type RecordedProcess } from '../../src/recording/tetragon-events.js';
import { NAMES_BY_NUMBER } from '../../src/syscalls/names.js';

const SELF = import.meta.filename;
/** The checkout (this file is test/bench/memory.ts, or dist/test/bench/memory.js when compiled). */
const ROOT = resolve(import.meta.dirname, SELF.endsWith('.js') ? '../../..' : '../..');

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export const BUILDS = ['binary', 'node', 'tsx'] as const;
export type Build = (typeof BUILDS)[number];

interface ChildReport {
  mode: 'idle' | 'procs';
  /** Before the pipeline is built: the runtime and the loaded code. */
  rss_runtime_mb: number;
  rss_mb: number;
  heap_used_mb: number;
  array_buffers_mb: number;
  external_mb: number;
  tracked: number;
  windows: number;
  seconds: number;
}

/** How long the daemon is left quiet after the feed before the settled figure is read. */
const SETTLE_SECONDS = 10;

/** One daemon's figures. */
interface DaemonRun {
  idle_mb: number;
  procs_mb: number;
  peak_mb: number;
  /** Of procs_mb: private (anonymous) memory, and pages of files (code, libraries, the binary). */
  procs_anon_mb: number;
  procs_file_mb: number;
  /** SETTLE_SECONDS later, the same processes still tracked and nothing fed meanwhile. */
  settled_mb: number;
  settled_anon_mb: number;
  tracked: number;
  windows: number;
  shed: number;
  feed_seconds: number;
}

export interface BuildResult {
  command: string;
  rss_idle_mb: Spread;
  rss_10k_procs_mb: Spread;
  rss_peak_mb: Spread;
  /** The 10,000-process RSS split: anonymous (the daemon's own data) and file-backed (shared code). */
  rss_10k_anon_mb: Spread;
  rss_10k_file_mb: Spread;
  /** The same daemons SETTLE_SECONDS later: what remains once the feed's garbage is collected. */
  rss_10k_settled_mb: Spread;
  rss_10k_settled_anon_mb: Spread;
  growth_mb: Spread;
  growth_per_process_kb: number;
  tracked: number;
  windows: number;
  shed: number;
  feed_seconds: Spread;
}

export interface Breakdown {
  /** The runtime with the code loaded, before the pipeline is built. */
  rss_runtime_mb: Spread;
  rss_idle_mb: Spread;
  rss_procs_mb: Spread;
  idle: { heap_used_mb: Spread; array_buffers_mb: Spread; external_mb: Spread };
  procs: { heap_used_mb: Spread; array_buffers_mb: Spread; external_mb: Spread };
}

export interface MemoryResult {
  /** The build behind the top-level figures. */
  build: Build;
  rss_idle_mb: Spread;
  rss_10k_procs_mb: Spread;
  rss_peak_mb: Spread;
  builds: Partial<Record<Build, BuildResult>>;
  breakdown?: Breakdown;
  env: Record<string, string>;
  node_flags: string;
  processes: number;
  window: number;
  runs: number;
}

function spread(xs: number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  const r = (x: number) => Math.round(x * 10) / 10;
  return { median: r(s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2), min: r(s[0]), max: r(s[s.length - 1]) };
}

const MB = 2 ** 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Which syscalls the benchmark processes make, as x64 numbers. */
const SYSCALLS = ['read', 'write', 'openat', 'close', 'fstat', 'mmap', 'futex', 'epoll_wait', 'recvfrom', 'sendto', 'clock_gettime', 'nanosleep'].map((n) => NAMES_BY_NUMBER.x64.indexOf(n));
const TIME = rfc3339Nanos(1_735_725_600_000_000_000n);

/**
 * The benchmark's event stream in order: every exec, then each process's sys_enter lines in
 * bursts of 16, processes interleaved. `emit` gets each line; it may ask to wait (backpressure).
 */
async function feed(processes: number, perProcess: number, emit: (line: string) => Promise<void> | void): Promise<void> {
  const procs = Array.from({ length: processes }, (_, i) => benchProcess(i));
  for (const p of procs) await emit(execLine(p, TIME));
  // Each process's sys_enter line around its syscall number; a fresh line string per call.
  const MARK = 987654321;
  const parts = procs.map((p) => syscallLine(p, 'x64', MARK, TIME).split(String(MARK)));
  for (let done = 0; done < perProcess; done += 16) {
    for (let i = 0; i < procs.length; i++) {
      const [before, after] = parts[i];
      for (let k = done; k < done + 16 && k < perProcess; k++) await emit(before + SYSCALLS[(i + k) % SYSCALLS.length] + after);
    }
  }
}

/** A source that never delivers: the benchmark feeds the parser itself. */
function quietSource(): EventSource {
  let finish = () => {};
  const done = new Promise<void>((r) => (finish = r));
  return { name: 'bench', done, start: async () => {}, stop: async () => finish() };
}

async function settle(gc: () => void): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The in-process child (--breakdown): builds the pipeline, optionally tracks `processes` processes, reports memory. */
async function child(mode: 'idle' | 'procs', processes: number): Promise<ChildReport> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run the child with node --expose-gc');
  const dir = mkdtempSync(join(tmpdir(), 'argos-bench-mem-'));
  await settle(gc);
  const runtime = process.memoryUsage.rss() / MB;
  const t0 = performance.now();
  try {
    const config = loadConfig({ env: { ...process.env, ARGOS_DB_PATH: join(dir, 'argos.db'), ARGOS_HTTP_ADDRESS: '', ARGOS_LOG_LEVEL: 'error', ARGOS_NODE_NAME: 'bench-node' } });
    let sink: LineSink | undefined;
    const pipeline = await buildPipeline({
      config,
      log: silentLogger(),
      stdin: process.stdin,
      learning: false,
      source: (s) => {
        sink = s;
        return quietSource();
      },
    });
    await pipeline.start();
    try {
      if (mode === 'procs') {
        const parser = sink as LineSink;
        const { window, delta } = pipeline.geometry;
        let n = 0;
        await feed(processes, window + (delta >> 1), (line) => {
          parser.line(line);
          // Let the detector score what the tracker emitted (its queue is bounded).
          if (++n % 4096 === 0) return new Promise((r) => setImmediate(r));
        });
        const deadline = performance.now() + 60_000;
        while (pipeline.detector.queued > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      }
      await settle(gc);
      const m = process.memoryUsage();
      return {
        mode,
        rss_runtime_mb: runtime,
        rss_mb: m.rss / MB,
        heap_used_mb: m.heapUsed / MB,
        array_buffers_mb: m.arrayBuffers / MB,
        external_mb: m.external / MB,
        tracked: pipeline.tracker.size,
        windows: pipeline.counters.windows,
        seconds: (performance.now() - t0) / 1000,
      };
    } finally {
      await pipeline.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Process `i`: a containerised worker with a long command line, as on a busy edge node. */
function benchProcess(i: number): RecordedProcess {
  const pid = 10_000 + i;
  return {
    node: 'bench-node',
    pid,
    ktime: 5_000_000_000n + BigInt(i) * 1_000_003n,
    uid: 1000,
    cwd: '/app',
    binary: ['/usr/bin/python3', '/usr/local/bin/sensor-agent', '/usr/sbin/nginx', '/bin/sh'][i % 4],
    arguments: `/opt/app/worker.py --queue amqp://guest:guest@rabbitmq.default.svc.cluster.local:5672/%2F --prefetch 32 --shard ${i}`,
    startTime: rfc3339Nanos(1_735_725_000_000_000_000n + BigInt(i)),
    parent: { pid: 1, ktime: 1n, binary: '/usr/bin/containerd-shim-runc-v2' },
    pod: { namespace: 'default', name: `sensor-gateway-5d9f8b7c6-${(i % 97).toString(36).padStart(5, 'q')}`, container: 'gateway', image: 'registry.example.com/iot/sensor-gateway:2.4.1' },
  };
}

/** The in-process child in the runtime running this script (tsx or compiled JS). */
function runChild(mode: 'idle' | 'procs', processes: number, env: Record<string, string>): ChildReport {
  const loader = SELF.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const r = spawnSync(process.execPath, ['--expose-gc', ...loader, SELF, '--child', mode, '--processes', String(processes)], {
    cwd: ROOT,
    env: { ...process.env, ...env, ORT_DISABLE_TELEMETRY: '1' },
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`memory child (${mode}) failed: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  const out = r.stdout.trim();
  return JSON.parse(out.slice(out.lastIndexOf('\n') + 1)) as ChildReport;
}

/** The command line of a build's daemon; throws when the build is missing. */
function buildCommand(build: Build, nodeFlags: string): { cmd: string; args: string[]; env: Record<string, string> } {
  const nodeEnv: Record<string, string> = nodeFlags ? { NODE_OPTIONS: nodeFlags } : {};
  switch (build) {
    case 'binary': {
      const bin = join(ROOT, 'dist', 'argos-linux-x64');
      if (!existsSync(bin)) throw new Error(`${bin} is missing; build it with "npm run build:bin"`);
      return { cmd: bin, args: [], env: {} };
    }
    case 'node': {
      const main = join(ROOT, 'dist', 'src', 'cli', 'main.js');
      if (!existsSync(main)) throw new Error(`${main} is missing; build it with "npm run build"`);
      return { cmd: process.execPath, args: [main], env: nodeEnv };
    }
    case 'tsx':
      return { cmd: process.execPath, args: ['--import', import.meta.resolve('tsx'), join(ROOT, 'src', 'cli', 'main.ts')], env: nodeEnv };
  }
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? done(a.port) : fail(new Error('no port'))));
    });
  });
}

function status(pid: number): { rss: number; hwm: number; anon: number; file: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024, anon: kb('RssAnon') / 1024, file: kb('RssFile') / 1024 };
}

/** The daemon's counters from /metrics, or undefined while it does not answer. */
async function metrics(port: number): Promise<Record<string, number> | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) });
    const out: Record<string, number> = {};
    for (const line of (await res.text()).split('\n')) {
      const m = /^(argos_[a-z_]+) (\S+)$/.exec(line);
      if (m) out[m[1]] = Number(m[2]);
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Polls `probe` until it returns a value, for at most `ms`. */
async function until<T>(ms: number, what: string, probe: () => Promise<T | undefined>, exited: () => boolean): Promise<T> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (exited()) throw new Error(`the daemon exited while waiting for ${what}`);
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** One daemon of `build`: idle, then `processes` live processes; see the module comment. */
async function runDaemon(build: Build, processes: number, env: Record<string, string>, nodeFlags: string): Promise<DaemonRun> {
  const dir = mkdtempSync(join(tmpdir(), 'argos-bench-mem-'));
  const port = await freePort();
  const { cmd, args, env: buildEnv } = buildCommand(build, nodeFlags);
  const daemonEnv = { ...process.env, ORT_DISABLE_TELEMETRY: '1', ARGOS_DB_PATH: join(dir, 'argos.db'), ARGOS_HTTP_ADDRESS: `127.0.0.1:${port}`, ARGOS_LOG_LEVEL: 'error', ARGOS_NODE_NAME: 'bench-node', ...buildEnv, ...env };
  const child = spawn(cmd, [...args, 'run', '--source', 'stdin'], { cwd: build === 'tsx' ? ROOT : dir, env: daemonEnv, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  child.stdin.on('error', () => {}); // a daemon that died is reported below, not as EPIPE
  let exited = false;
  const gone = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  const pid = child.pid as number;
  try {
    await until(60_000, '/metrics', () => metrics(port), () => exited);
    // Quiet: start-up work (JIT, first GC) settles within a few hundred milliseconds.
    await sleep(1000);
    const idle = status(pid).rss;
    const geometry = loadConfig({ env: {} });
    const window = geometry.window ?? 1024;
    const delta = geometry.delta ?? window >> 2;
    const t0 = performance.now();
    let chunk: string[] = [];
    const flush = async () => {
      const ok = child.stdin.write(`${chunk.join('\n')}\n`);
      chunk = [];
      if (!ok) await new Promise<void>((r, fail) => {
        child.stdin.once('drain', r);
        void gone.then(() => fail(new Error(`the daemon exited while reading: ${stderr.trim().split('\n').slice(-3).join(' | ')}`)));
      });
    };
    await feed(processes, window + (delta >> 1), (line) => {
      chunk.push(line);
      if (chunk.length === 256) return flush();
    });
    if (chunk.length > 0) await flush();
    const m = await until(
      600_000,
      'every window to be scored',
      async () => {
        const c = await metrics(port);
        if (c === undefined) return undefined;
        const windows = c.argos_windows_total;
        const done = windows >= processes && c.argos_classifier_queue_depth === 0 && c.argos_windows_classified_total + c.argos_windows_shed_total >= windows && c.argos_tracked_processes >= processes;
        return done ? c : undefined;
      },
      () => exited,
    );
    const feedSeconds = (performance.now() - t0) / 1000;
    const { rss, hwm, anon, file } = status(pid);
    // Then quiet, as a device between bursts: the runtime collects what the feed left.
    await sleep(SETTLE_SECONDS * 1000);
    if (exited) throw new Error('the daemon exited while settling');
    const later = status(pid);
    return { idle_mb: idle, procs_mb: rss, peak_mb: hwm, procs_anon_mb: anon, procs_file_mb: file, settled_mb: later.rss, settled_anon_mb: later.anon, tracked: m.argos_tracked_processes, windows: m.argos_windows_total, shed: m.argos_windows_shed_total, feed_seconds: feedSeconds };
  } catch (e) {
    throw new Error(`${build}: ${(e as Error).message}${stderr ? ` (stderr: ${stderr.trim().split('\n').slice(-3).join(' | ')})` : ''}`, { cause: e });
  } finally {
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    if (!exited) child.kill('SIGTERM');
    await gone;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface MemoryOptions {
  runs?: number;
  processes?: number;
  builds?: readonly Build[];
  env?: Record<string, string>;
  nodeFlags?: string;
  breakdown?: boolean;
}

export async function benchMemory(opts: MemoryOptions = {}): Promise<MemoryResult> {
  const runs = opts.runs ?? 3;
  const processes = opts.processes ?? 10_000;
  const builds = opts.builds ?? ['binary', 'node'];
  const env = opts.env ?? {};
  const nodeFlags = opts.nodeFlags ?? '';
  if (builds.length === 0) throw new Error('--builds needs at least one of binary, node, tsx');
  const results: Partial<Record<Build, BuildResult>> = {};
  for (const build of builds) {
    const daemons: DaemonRun[] = [];
    for (let i = 0; i < runs; i++) daemons.push(await runDaemon(build, processes, env, nodeFlags));
    const g = spread(daemons.map((d) => d.procs_mb - d.idle_mb));
    const { cmd, args } = buildCommand(build, nodeFlags);
    results[build] = {
      command: [cmd.startsWith(ROOT) ? cmd.slice(ROOT.length + 1) : 'node', ...args.map((a) => (a.includes('/tsx/') ? 'tsx' : a.startsWith(ROOT) ? a.slice(ROOT.length + 1) : a)), 'run', '--source', 'stdin'].join(' '),
      rss_idle_mb: spread(daemons.map((d) => d.idle_mb)),
      rss_10k_procs_mb: spread(daemons.map((d) => d.procs_mb)),
      rss_peak_mb: spread(daemons.map((d) => d.peak_mb)),
      rss_10k_anon_mb: spread(daemons.map((d) => d.procs_anon_mb)),
      rss_10k_file_mb: spread(daemons.map((d) => d.procs_file_mb)),
      rss_10k_settled_mb: spread(daemons.map((d) => d.settled_mb)),
      rss_10k_settled_anon_mb: spread(daemons.map((d) => d.settled_anon_mb)),
      growth_mb: g,
      growth_per_process_kb: Math.round((g.median * 1024 * 10) / processes) / 10,
      tracked: daemons[0].tracked,
      windows: daemons[0].windows,
      shed: Math.max(...daemons.map((d) => d.shed)),
      feed_seconds: spread(daemons.map((d) => d.feed_seconds)),
    };
  }
  let breakdown: Breakdown | undefined;
  if (opts.breakdown) {
    const idle: ChildReport[] = [];
    const procs: ChildReport[] = [];
    for (let i = 0; i < runs; i++) {
      idle.push(runChild('idle', processes, env));
      procs.push(runChild('procs', processes, env));
    }
    const part = (xs: ChildReport[]) => ({ heap_used_mb: spread(xs.map((x) => x.heap_used_mb)), array_buffers_mb: spread(xs.map((x) => x.array_buffers_mb)), external_mb: spread(xs.map((x) => x.external_mb)) });
    breakdown = { rss_runtime_mb: spread(idle.map((x) => x.rss_runtime_mb)), rss_idle_mb: spread(idle.map((x) => x.rss_mb)), rss_procs_mb: spread(procs.map((x) => x.rss_mb)), idle: part(idle), procs: part(procs) };
  }
  const first = results[builds[0]] as BuildResult;
  return {
    build: builds[0],
    rss_idle_mb: first.rss_idle_mb,
    rss_10k_procs_mb: first.rss_10k_procs_mb,
    rss_peak_mb: first.rss_peak_mb,
    builds: results,
    ...(breakdown ? { breakdown } : {}),
    env,
    node_flags: nodeFlags,
    processes,
    window: 1024,
    runs,
  };
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function parseEnv(argv: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  argv.forEach((a, i) => {
    if (a !== '--env') return;
    const kv = argv[i + 1] ?? '';
    const eq = kv.indexOf('=');
    if (eq < 1) throw new Error(`--env takes NAME=VALUE, got "${kv}"`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  });
  return env;
}

async function main(argv: string[]): Promise<void> {
  const processes = Number(arg(argv, '--processes') ?? 10_000);
  if (!Number.isInteger(processes) || processes < 1) throw new Error('--processes needs a whole number >= 1');
  const mode = arg(argv, '--child');
  if (mode !== undefined) {
    if (mode !== 'idle' && mode !== 'procs') throw new Error('--child is idle or procs');
    process.stdout.write(`${JSON.stringify(await child(mode, processes))}\n`);
    return;
  }
  const runs = Number(arg(argv, '--runs') ?? 3);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs needs a whole number >= 1');
  const builds = (arg(argv, '--builds') ?? 'binary,node').split(',').filter(Boolean);
  for (const b of builds) if (!(BUILDS as readonly string[]).includes(b)) throw new Error(`--builds: unknown build "${b}" (use ${BUILDS.join(', ')})`);
  const r = await benchMemory({ runs, processes, builds: builds as Build[], env: parseEnv(argv), nodeFlags: arg(argv, '--node-flags') ?? '', breakdown: argv.includes('--breakdown') });
  if (argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const f = (s: Spread) => `${s.median} MB (${s.min}–${s.max})`;
  const lines: string[] = [];
  for (const [build, b] of Object.entries(r.builds)) {
    lines.push(
      `${build}: ${b.command}`,
      `  RSS idle                  ${f(b.rss_idle_mb)}`,
      `  RSS ${r.processes} processes    ${f(b.rss_10k_procs_mb)}  (goal < 80 MB at 10,000)`,
      `    of which private        ${f(b.rss_10k_anon_mb)}, file-backed code ${f(b.rss_10k_file_mb)}`,
      `  ${SETTLE_SECONDS} s later               ${f(b.rss_10k_settled_mb)} (private ${f(b.rss_10k_settled_anon_mb)})`,
      `  peak RSS (VmHWM)          ${f(b.rss_peak_mb)}`,
      `  growth                    ${f(b.growth_mb)} = ${b.growth_per_process_kb} KB/process`,
      `  tracked ${b.tracked}, windows ${b.windows}, shed ${b.shed}, fed in ${b.feed_seconds.median} s`,
    );
  }
  if (r.breakdown) {
    const k = r.breakdown;
    lines.push(
      'in-process (this runtime, after a full GC)',
      `  RSS runtime + code        ${f(k.rss_runtime_mb)}`,
      `  RSS idle / processes      ${f(k.rss_idle_mb)} / ${f(k.rss_procs_mb)}`,
      `  JS heap idle / processes  ${f(k.idle.heap_used_mb)} / ${f(k.procs.heap_used_mb)}`,
      `  array buffers idle / procs ${f(k.idle.array_buffers_mb)} / ${f(k.procs.array_buffers_mb)}`,
    );
  }
  lines.push(`${r.runs} runs, env ${JSON.stringify(r.env)}, node flags "${r.node_flags}"`, '');
  process.stdout.write(lines.join('\n'));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(SELF)) {
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`memory: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
