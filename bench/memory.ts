// Benchmark: resident memory of the daemon's pipeline, idle and with 10,000 live processes.
//
//   node --import tsx bench/memory.ts [--json] [--runs N] [--processes N]
//
// Each measurement runs in a fresh child process (`node --expose-gc`), so nothing the parent
// loaded counts. The child builds the real pipeline from the default configuration (default
// model, its window 1024 and delta 256, a temporary SQLite database, no reporters, no HTTP
// endpoint) with a source that delivers nothing by itself, and starts it.
//   idle   started, nothing received: RSS after a full GC.
//   procs  then, through the parser, for each of N processes (default 10,000): a full-size
//          exec event (pod context, long command line) and window + delta/2 sys_enter events
//          of its own (full-size lines), round-robin in bursts of 16, so every process ends
//          with a full ring and one window scored; none exits. RSS after the detector has
//          scored everything and a full GC. Also reported: the JS heap and array buffers
//          (where the tracker's rings live), and the growth over the idle figure.
// Figures are medians over `runs` children, with min and max.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { silentLogger } from '../src/core/logger.js';
import type { EventSource, LineSink } from '../src/core/types.js';
import { buildPipeline } from '../src/daemon.js';
import { execLine, syscallLine, rfc3339Nanos, type RecordedProcess } from '../src/recording/tetragon-events.js';
import { NAMES_BY_NUMBER } from '../src/syscalls/names.js';

const ROOT = resolve(import.meta.dirname, '..');

export interface Spread {
  median: number;
  min: number;
  max: number;
}

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

export interface MemoryResult {
  /** The runtime with the code loaded, before the pipeline is built (under tsx: its loader too). */
  rss_runtime_mb: Spread;
  rss_idle_mb: Spread;
  rss_10k_procs_mb: Spread;
  /** RSS with the processes minus RSS idle, per run pair. */
  growth_mb: Spread;
  growth_per_process_kb: number;
  idle: { heap_used_mb: Spread; array_buffers_mb: Spread; external_mb: Spread };
  procs: { heap_used_mb: Spread; array_buffers_mb: Spread; external_mb: Spread; tracked: number; windows: number };
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

/** The child: builds the pipeline, optionally tracks `processes` processes, reports memory. */
async function child(mode: 'idle' | 'procs', processes: number): Promise<ChildReport> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run the child with node --expose-gc');
  const dir = mkdtempSync(join(tmpdir(), 'argos-bench-mem-'));
  await settle(gc);
  const runtime = process.memoryUsage.rss() / MB;
  const t0 = performance.now();
  try {
    const config = loadConfig({ env: { ARGOS_DB_PATH: join(dir, 'argos.db'), ARGOS_HTTP_ADDRESS: '', ARGOS_LOG_LEVEL: 'error', ARGOS_NODE_NAME: 'bench-node' } });
    let sink: LineSink | undefined;
    const pipeline = await buildPipeline({
      config,
      log: silentLogger(),
      stdin: process.stdin,
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
        const perProcess = window + (delta >> 1);
        const ids = ['read', 'write', 'openat', 'close', 'fstat', 'mmap', 'futex', 'epoll_wait', 'recvfrom', 'sendto', 'clock_gettime', 'nanosleep'].map((n) => NAMES_BY_NUMBER.x64.indexOf(n));
        const procs = Array.from({ length: processes }, (_, i) => benchProcess(i));
        const time = rfc3339Nanos(1_735_725_600_000_000_000n);
        for (const p of procs) parser.line(execLine(p, time));
        // Each process's sys_enter line around its syscall number; a fresh line string per call.
        const MARK = 987654321;
        const parts = procs.map((p) => syscallLine(p, 'x64', MARK, time).split(String(MARK)));
        for (let done = 0; done < perProcess; done += 16) {
          for (let i = 0; i < procs.length; i++) {
            const [before, after] = parts[i];
            for (let k = done; k < done + 16 && k < perProcess; k++) parser.line(before + ids[(i + k) % ids.length] + after);
            // Let the detector score what the tracker emitted (its queue is bounded).
            if (i % 256 === 255) await new Promise((r) => setImmediate(r));
          }
        }
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

function runChild(mode: 'idle' | 'procs', processes: number): ChildReport {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'bench', 'memory.ts'), '--child', mode, '--processes', String(processes)], {
    cwd: ROOT,
    env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`memory child (${mode}) failed: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  const out = r.stdout.trim();
  return JSON.parse(out.slice(out.lastIndexOf('\n') + 1)) as ChildReport;
}

export function benchMemory(opts: { runs?: number; processes?: number } = {}): MemoryResult {
  const runs = opts.runs ?? 3;
  const processes = opts.processes ?? 10_000;
  const idle: ChildReport[] = [];
  const procs: ChildReport[] = [];
  for (let i = 0; i < runs; i++) {
    idle.push(runChild('idle', processes));
    procs.push(runChild('procs', processes));
  }
  const growth = procs.map((p, i) => p.rss_mb - idle[i].rss_mb);
  const part = (xs: ChildReport[]) => ({ heap_used_mb: spread(xs.map((x) => x.heap_used_mb)), array_buffers_mb: spread(xs.map((x) => x.array_buffers_mb)), external_mb: spread(xs.map((x) => x.external_mb)) });
  const g = spread(growth);
  return {
    rss_runtime_mb: spread(idle.map((x) => x.rss_runtime_mb)),
    rss_idle_mb: spread(idle.map((x) => x.rss_mb)),
    rss_10k_procs_mb: spread(procs.map((x) => x.rss_mb)),
    growth_mb: g,
    growth_per_process_kb: Math.round((g.median * 1024 * 10) / processes) / 10,
    idle: part(idle),
    procs: { ...part(procs), tracked: procs[0].tracked, windows: procs[0].windows },
    processes,
    window: 1024,
    runs,
  };
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
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
  const r = benchMemory({ runs, processes });
  if (argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const f = (s: Spread) => `${s.median} MB (${s.min}–${s.max})`;
  process.stdout.write(
    [
      `RSS runtime + code          ${f(r.rss_runtime_mb)}`,
      `RSS idle                    ${f(r.rss_idle_mb)}`,
      `RSS ${r.processes} processes      ${f(r.rss_10k_procs_mb)}  (goal < 80 MB at 10,000)`,
      `growth                      ${f(r.growth_mb)} = ${r.growth_per_process_kb} KB/process`,
      `JS heap idle / processes    ${f(r.idle.heap_used_mb)} / ${f(r.procs.heap_used_mb)}`,
      `array buffers idle / procs  ${f(r.idle.array_buffers_mb)} / ${f(r.procs.array_buffers_mb)}`,
      `tracked ${r.procs.tracked}, windows ${r.procs.windows}, window ${r.window}, ${r.runs} runs`,
      '',
    ].join('\n'),
  );
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`memory: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
