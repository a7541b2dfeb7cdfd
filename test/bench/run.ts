// The benchmark suite: `npm run bench` (a table) or `npm run bench -- --json` (one object).
//
//   node --import tsx test/bench/run.ts [--json] [--only parse,classify,memory,e2e,binary] [--quick]
//
// Every benchmark runs in its own child process (`node --import tsx test/bench/<name>.ts --json`),
// one after the other, so one's heap, JIT state and threads cannot colour the next one's
// figures. The compiled binary is built first when its inputs changed (`build:bin
// --if-changed`); when the build fails the existing dist/ binary is measured and the result
// says so. Each module generates its recordings deterministically in a temporary folder and
// deletes them. `--quick` asks every module for fewer, shorter runs (a smoke run, not figures
// to publish).
//
// The JSON object has the headline figures at the top level (the median of each
// module's runs) and, under `spread`, the median, min and max behind each one, plus the
// goals, the machine, and the modules' full reports under `details`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const BUN = join(ROOT, 'node_modules', '.bin', 'bun');

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export const MODULES = ['parse', 'classify', 'programs', 'memory', 'e2e', 'binary', 'hub', 'live'] as const;
export type ModuleName = (typeof MODULES)[number];

/** The top-level keys of `--json`, in the order of the table. */
export interface SuiteFigures {
  parse_track_events_per_s: number | null;
  line_split_events_per_s: number | null;
  classify_windows_per_s: number | null;
  classify_syscalls_per_s: number | null;
  e2e_p50_ms: number | null;
  e2e_p99_ms: number | null;
  rss_idle_mb: number | null;
  rss_10k_procs_mb: number | null;
  binary_bytes: number | null;
  startup_ms: number | null;
  node_vs_binary_throughput: { node_events_per_s: number; binary_events_per_s: number; binary_over_node: number } | null;
  hub_alerts_per_s: number | null;
  hub_p99_ms: number | null;
  live_window_fpr: number | null;
  live_alerts_per_hour_normal: number | null;
  live_attacks_detected: string | null;
  live_attack_latency_max_s: number | null;
}

export const GOALS = {
  parse_track_events_per_s: '>= 1,000,000 and >= 0.5 x line_split_events_per_s',
  classify_syscalls_per_s: '>= 500,000',
  e2e_p99_ms: '< 50 at 50,000 events/s',
  rss_10k_procs_mb: '< 80',
  hub_alerts_per_s: '>= 5,000 (10,000 devices, two hubs, PostgreSQL)',
  hub_p99_ms: '<= 200',
  live_alerts_per_hour_normal: '0 in 10 minutes of fresh normal activity (<= 1 per hour)',
  live_attacks_detected: 'every attack behaviour',
  live_attack_latency_max_s: '<= 5',
};

interface ModuleRun {
  name: ModuleName;
  ok: boolean;
  seconds: number;
  result?: Record<string, unknown>;
  error?: string;
}

function moduleArgs(name: ModuleName, quick: boolean): string[] {
  const q = (full: string[], short: string[]) => (quick ? short : full);
  switch (name) {
    case 'parse':
      return ['test/bench/parse-track.ts', '--json', ...q(['--runs', '5'], ['--runs', '1', '--processes', '200'])];
    case 'classify':
      return ['test/bench/classify.ts', '--json', ...q(['--runs', '5', '--seconds', '0.5'], ['--runs', '2', '--seconds', '0.2'])];
    case 'programs':
      // The per-program model learned on the recorded Debian host (one profile per program).
      return ['test/bench/classify.ts', '--json', '--model', 'models/debian12-x64', ...q(['--runs', '5', '--seconds', '0.5'], ['--runs', '2', '--seconds', '0.2'])];
    case 'memory':
      return ['test/bench/memory.ts', '--json', ...q(['--runs', '3'], ['--runs', '1', '--processes', '1000'])];
    case 'e2e':
      return ['test/bench/e2e.ts', '--json', '--both', ...q(['--runs', '3', '--seconds', '10'], ['--runs', '1', '--seconds', '3'])];
    case 'binary':
      return ['test/bench/binary.ts', '--json', '--throughput', ...q(['--runs', '5'], ['--runs', '1'])];
    case 'hub':
      return ['test/bench/hub.ts', '--json', ...q(['--seconds', '20'], ['--seconds', '3', '--devices', '1000'])];
    case 'live':
      // Real kernel events (bpftrace, root): learning a few minutes, 10 minutes of fresh normal work, the attacks.
      return ['test/bench/live.ts', '--json', ...q(['--learn', '3m', '--normal', '600'], ['--learn', '1m', '--normal', '60'])];
  }
}

/** The last JSON object a module printed (pretty-printed or on one line). */
function parseOutput(stdout: string): Record<string, unknown> {
  const text = stdout.trim();
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    const last = text.slice(text.lastIndexOf('\n') + 1);
    return JSON.parse(last) as Record<string, unknown>;
  }
}

function runModule(name: ModuleName, quick: boolean, progress: (s: string) => void): Promise<ModuleRun> {
  const args = moduleArgs(name, quick);
  progress(`bench: ${name} (${args[0]}) ...`);
  const t0 = performance.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: ROOT,
      env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('close', (code) => {
      const seconds = Math.round(performance.now() - t0) / 1000;
      if (code !== 0) {
        done({ name, ok: false, seconds, error: `${args[0]} exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}` });
        return;
      }
      try {
        done({ name, ok: true, seconds, result: parseOutput(out) });
      } catch (e) {
        done({ name, ok: false, seconds, error: `${args[0]} printed no JSON object (${(e as Error).message})` });
      }
    });
  });
}

/** Builds dist/argos-linux-x64 when its inputs changed; returns a note when it could not. */
function ensureBinary(progress: (s: string) => void): string | undefined {
  progress('bench: build:bin --arch x64 --if-changed ...');
  const r = spawnSync(BUN, ['build/build-bin.ts', '--arch', 'x64', '--if-changed'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status === 0) return undefined;
  const bin = join(ROOT, 'dist', 'argos-linux-x64');
  const why = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').slice(-2).join(' | ') || `exit ${r.status}`;
  if (!existsSync(bin)) return `the binary could not be built (${why}) and dist/argos-linux-x64 does not exist`;
  return `the binary could not be rebuilt (${why}); measured the existing dist/argos-linux-x64 of ${statSync(bin).mtime.toISOString()}`;
}

/** Compiles dist/ (npm run build), which the memory benchmark runs as the Node build. */
function ensureNodeBuild(progress: (s: string) => void): string | undefined {
  progress('bench: build (tsc) ...');
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status === 0) return undefined;
  const why = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(0, 2).join(' | ') || `exit ${r.status}`;
  return `tsc reported errors (${why}); the Node build in dist/ may be partly stale`;
}

// Typed reads of the modules' JSON reports.
function text(o: unknown, key: string): string | null {
  const v = typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' ? v : null;
}

function num(o: unknown, ...path: string[]): number | null {
  let cur: unknown = o;
  for (const k of path) {
    if (typeof cur !== 'object' || cur === null) return null;
    cur = (cur as Record<string, unknown>)[k];
  }
  return typeof cur === 'number' && Number.isFinite(cur) ? cur : null;
}

function spreadAt(o: unknown, ...path: string[]): Spread | null {
  const median = num(o, ...path, 'median');
  const min = num(o, ...path, 'min');
  const max = num(o, ...path, 'max');
  return median === null || min === null || max === null ? null : { median, min, max };
}

function spreadOf(values: unknown): Spread | null {
  if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'number')) return null;
  const s = [...(values as number[])].sort((a, b) => a - b);
  const m = s.length >> 1;
  return { median: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, min: s[0], max: s[s.length - 1] };
}

export interface SuiteResult extends SuiteFigures {
  spread: Partial<Record<keyof SuiteFigures, Spread | null>> & { parse_track_ratio?: number | null };
  goals: typeof GOALS;
  machine: Machine;
  notes: string[];
  details: Partial<Record<ModuleName, Record<string, unknown> | { error: string }>>;
}

export interface Machine {
  date: string;
  cpus: number;
  cpu_model: string;
  memory_gb: number;
  node: string;
  bun: string | null;
  load_average_at_start: number[];
}

function machine(): Machine {
  const bun = spawnSync(BUN, ['--version'], { encoding: 'utf8' });
  let load: number[] = [];
  try {
    load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  } catch {
    // Not Linux: no load figure.
  }
  return {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? 'unknown',
    memory_gb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    bun: bun.status === 0 ? bun.stdout.trim() : null,
    load_average_at_start: load,
  };
}

export function assemble(runs: ModuleRun[], m: Machine, notes: string[]): SuiteResult {
  const get = (n: ModuleName): Record<string, unknown> | undefined => runs.find((r) => r.name === n && r.ok)?.result;
  const parse = get('parse');
  const classify = get('classify');
  const memory = get('memory');
  const e2e = get('e2e');
  const binary = get('binary');
  const hub = get('hub');
  const live = get('live');
  const throughput = binary?.throughput;
  const nodeEps = num(throughput, 'node_events_per_s', 'median');
  const binEps = num(throughput, 'binary_events_per_s', 'median');
  const figures: SuiteFigures = {
    parse_track_events_per_s: num(parse, 'parse_track_events_per_s'),
    line_split_events_per_s: num(parse, 'line_split_events_per_s'),
    classify_windows_per_s: num(classify, 'classify_windows_per_s'),
    classify_syscalls_per_s: num(classify, 'classify_syscalls_per_s'),
    e2e_p50_ms: num(e2e, 'p50_ms', 'median'),
    e2e_p99_ms: num(e2e, 'p99_ms', 'median'),
    rss_idle_mb: num(memory, 'rss_idle_mb', 'median'),
    rss_10k_procs_mb: num(memory, 'rss_10k_procs_mb', 'median'),
    binary_bytes: num(binary, 'binary_bytes'),
    startup_ms: num(binary, 'ready_warm_ms', 'median'),
    node_vs_binary_throughput:
      nodeEps !== null && binEps !== null ? { node_events_per_s: nodeEps, binary_events_per_s: binEps, binary_over_node: Math.round((binEps / nodeEps) * 1000) / 1000 } : null,
    hub_alerts_per_s: num(hub, 'alerts_per_s'),
    hub_p99_ms: num(hub, 'p99_ms'),
    live_window_fpr: num(live, 'live_window_fpr'),
    live_alerts_per_hour_normal: num(live, 'live_alerts_per_hour_normal'),
    live_attacks_detected: text(live, 'live_attacks_detected'),
    live_attack_latency_max_s: num(live, 'latency_max_s'),
  };
  for (const r of runs) if (!r.ok) notes.push(`${r.name}: ${r.error}`);
  return {
    ...figures,
    spread: {
      parse_track_events_per_s: spreadOf(parse?.parse_track_runs_per_s),
      line_split_events_per_s: spreadOf(parse?.line_split_runs_per_s),
      parse_track_ratio: num(parse, 'ratio'),
      classify_windows_per_s: spreadAt(classify, 'batch64', 'windows_per_s'),
      classify_syscalls_per_s: spreadAt(classify, 'batch64', 'syscalls_per_s'),
      e2e_p50_ms: spreadAt(e2e, 'p50_ms'),
      e2e_p99_ms: spreadAt(e2e, 'p99_ms'),
      rss_idle_mb: spreadAt(memory, 'rss_idle_mb'),
      rss_10k_procs_mb: spreadAt(memory, 'rss_10k_procs_mb'),
      startup_ms: spreadAt(binary, 'ready_warm_ms'),
    },
    goals: GOALS,
    machine: m,
    notes,
    details: Object.fromEntries(runs.map((r) => [r.name, r.ok ? (r.result ?? {}) : { error: r.error ?? 'failed' }])),
  };
}

const int = (n: number | null) => (n === null ? '—' : Math.round(n).toLocaleString('en-US'));
const dec = (n: number | null, d = 1) => (n === null ? '—' : n.toFixed(d));
const range = (s: Spread | null | undefined, f: (n: number) => string) => (s ? `${f(s.min)} – ${f(s.max)}` : '');

/** The Markdown table (docs/benchmarks.md and README carry the same one). */
export function table(r: SuiteResult): string {
  const s = r.spread;
  const t = r.node_vs_binary_throughput;
  const rows: [string, string, string, string][] = [
    ['parse+track, one core (events/s)', int(r.parse_track_events_per_s), range(s.parse_track_events_per_s, (n) => int(n)), '≥ 1,000,000'],
    ['line split of the same file (events/s)', int(r.line_split_events_per_s), range(s.line_split_events_per_s, (n) => int(n)), ''],
    ['parse+track / line split', dec(s.parse_track_ratio ?? null, 2), '', '≥ 0.5'],
    ['reading and finding line ends only (events/s)', int(num(r.details.parse, 'line_ends_events_per_s')), '', ''],
    ['classify, batch 64, one core (windows/s)', int(r.classify_windows_per_s), range(s.classify_windows_per_s, (n) => int(n)), ''],
    ['classify, batch 64, one core (syscalls/s)', int(r.classify_syscalls_per_s), range(s.classify_syscalls_per_s, (n) => int(n)), '≥ 500,000'],
    ['classify, per-program model, batch 64, one core (syscalls/s)', int(num(r.details.programs, 'batch64', 'syscalls_per_s', 'median')), range(spreadAt(r.details.programs, 'batch64', 'syscalls_per_s'), (n) => int(n)), '≥ 500,000'],
    ['classify, batch 1 (windows/s)', int(num(r.details.classify, 'batch1', 'windows_per_s', 'median')), range(spreadAt(r.details.classify, 'batch1', 'windows_per_s'), (n) => int(n)), ''],
    ['end-to-end latency p50 at 50k events/s (ms)', dec(r.e2e_p50_ms), range(s.e2e_p50_ms, (n) => dec(n)), ''],
    ['end-to-end latency p99 at 50k events/s (ms)', dec(r.e2e_p99_ms), range(s.e2e_p99_ms, (n) => dec(n)), '< 50'],
    [
      'the same p99, broker with set_tcp_nodelay (ms)',
      dec(num(r.details.e2e, 'broker_nodelay', 'p99_ms', 'median')),
      range(spreadAt(r.details.e2e, 'broker_nodelay', 'p99_ms'), (n) => dec(n)),
      '',
    ],
    ['RSS idle, binary (MB)', dec(r.rss_idle_mb), range(s.rss_idle_mb, (n) => dec(n)), ''],
    ['RSS with 10,000 live processes, binary, right after the feed (MB)', dec(r.rss_10k_procs_mb), range(s.rss_10k_procs_mb, (n) => dec(n)), '< 80'],
    ['the same 10 s later (MB)', dec(num(r.details.memory, 'builds', 'binary', 'rss_10k_settled_mb', 'median')), range(spreadAt(r.details.memory, 'builds', 'binary', 'rss_10k_settled_mb'), (n) => dec(n)), ''],
    ['of which private (the rest is the binary and libraries, file-backed) (MB)', dec(num(r.details.memory, 'builds', 'binary', 'rss_10k_settled_anon_mb', 'median')), '', ''],
    ['binary size, linux-x64 (bytes)', int(r.binary_bytes), '', ''],
    ['binary start-up to ready (ms)', dec(r.startup_ms, 0), range(s.startup_ms, (n) => dec(n, 0)), ''],
    ['replay throughput, Node (events/s)', t ? int(t.node_events_per_s) : '—', range(spreadAt(r.details.binary, 'throughput', 'node_events_per_s'), (n) => int(n)), ''],
    ['replay throughput, binary (events/s)', t ? int(t.binary_events_per_s) : '—', range(spreadAt(r.details.binary, 'throughput', 'binary_events_per_s'), (n) => int(n)), ''],
    ['binary / Node throughput', t ? dec(t.binary_over_node, 2) : '—', '', ''],
    ['hub: alerts stored per second (10,000 devices, 2 hubs, PostgreSQL)', int(r.hub_alerts_per_s), '', '≥ 5,000'],
    ['hub: latency publish → stored, p50 (ms)', dec(num(r.details.hub, 'p50_ms')), '', ''],
    ['hub: latency publish → stored, p99 (ms)', dec(r.hub_p99_ms), '', '≤ 200'],
    ['live: learning, workload start → detecting (s)', dec(num(r.details.live, 'learn_seconds'), 0), '', 'period ≤ 5 min'],
    ['live: flagged windows in fresh normal activity', r.live_window_fpr === null ? '—' : `${(r.live_window_fpr * 100).toFixed(2)}%`, '', ''],
    ['live: alerts per hour in fresh normal activity', dec(r.live_alerts_per_hour_normal), '', '0 in 10 min'],
    ['live: attack behaviours alerted', r.live_attacks_detected ?? '—', '', 'all'],
    ['live: attack behaviours flagged, repeats folded into an open alert included', text(r.details.live, 'attacks_flagged') ?? '—', '', ''],
    ['live: attack start → first alert, max (s)', dec(r.live_attack_latency_max_s, 2), '', '≤ 5'],
  ];
  const lines = ['| figure | median | min – max | goal |', '|---|---:|---:|---|', ...rows.map((row) => `| ${row.join(' | ')} |`)];
  return lines.join('\n');
}

async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const quick = argv.includes('--quick');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? '').split(',') : [...MODULES];
  for (const o of only) {
    if (!(MODULES as readonly string[]).includes(o)) throw new Error(`--only: unknown benchmark "${o}" (choose from ${MODULES.join(', ')})`);
  }
  const progress = (s: string) => process.stderr.write(`${s}\n`);
  const m = machine();
  const notes: string[] = [];
  if (only.includes('binary') || only.includes('memory')) {
    const note = ensureBinary(progress);
    if (note) notes.push(`binary: ${note}`);
  }
  if (only.includes('memory')) {
    const note = ensureNodeBuild(progress);
    if (note) notes.push(`memory: ${note}`);
  }
  const runs: ModuleRun[] = [];
  for (const name of MODULES) {
    if (!only.includes(name)) continue;
    const r = await runModule(name, quick, progress);
    progress(`bench: ${name} ${r.ok ? 'done' : 'FAILED'} in ${r.seconds} s${r.ok ? '' : `: ${r.error}`}`);
    runs.push(r);
  }
  const result = assemble(runs, m, notes);
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const head = `${m.date.slice(0, 10)} · ${m.cpus} × ${m.cpu_model} · ${m.memory_gb} GB · Node ${m.node} · Bun ${m.bun ?? '—'} · load at start ${m.load_average_at_start.join(' ')}`;
    process.stdout.write(`${head}\n\n${table(result)}\n`);
    if (notes.length > 0) process.stdout.write(`\n${notes.map((n) => `note: ${n}`).join('\n')}\n`);
  }
  if (runs.some((r) => !r.ok)) process.exitCode = 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
