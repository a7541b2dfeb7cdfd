// Benchmark: how fast the ONNX classifier scores windows.
//
//   node --import tsx test/bench/classify.ts [--json] [--model DIR] [--runs N] [--seconds S]
//
// Headline figures (`classify_windows_per_s`, `classify_syscalls_per_s`) are batch 64 on one
// core: an inline session with one intra-op thread. syscalls/s = windows/s x the card's delta
// (each window stands for `delta` new calls of its process). Also measured: batch 1, and the
// worker-thread mode with 1 and 2 workers, each with the main thread's event-loop utilisation
// and its busy time per window (onnxruntime-node runs a session synchronously on the calling
// thread, so inline classification is main-thread time the parser cannot use).
// Each figure is the median of several timed runs, with the min and max.
// Without models/default, a stand-in is used and labelled: a bigram surprisal model (hash-map
// lookups of bigram log-probabilities, as the n-gram family does) with seeded random tables.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel, packagedDefaultFiles, type LoadedModel } from '../../src/model/folder.js';
import { OnnxClassifier, type OnnxClassifierOptions } from '../../src/detector/onnx-classifier.js';
import { GraphBuilder } from '../../src/model/onnx/builder.js';
import type { ModelCard } from '../../src/core/model-card.js';

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface ModeFigures {
  windows_per_s: Spread;
  syscalls_per_s: Spread;
  /** Mean time of one classifier call, ms. */
  call_ms: Spread;
  /** Share of wall time the main thread's event loop was busy (0..1). */
  main_thread_utilization: Spread;
  /** Main-thread busy time per window, microseconds. */
  main_thread_us_per_window: Spread;
}

export interface ClassifyBenchResult {
  model: { name: string; family: string; window: number; delta: number; source: string };
  classify_windows_per_s: number;
  classify_syscalls_per_s: number;
  batch1: ModeFigures;
  batch64: ModeFigures;
  /** Batch 64 in worker threads, `concurrency + 1` calls outstanding. */
  workers: Record<string, ModeFigures>;
  runs: number;
  seconds_per_run: number;
}

export interface ClassifyBenchOptions {
  modelDir?: string;
  runs?: number;
  /** Length of each timed run. */
  seconds?: number;
  /** Worker counts to compare (default [1, 2]). */
  workerCounts?: number[];
}

/** Deterministic pseudo-random numbers (LCG), so every run scores the same windows. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Synthetic traces from a sparse Markov chain over `vocabulary` tokens. */
function markovTraces(vocabulary: number, count: number, length: number, seed: number): Int32Array[] {
  const rnd = lcg(seed);
  const next = Array.from({ length: vocabulary }, () => Array.from({ length: 4 }, () => 2 + Math.floor(rnd() * (vocabulary - 2))));
  return Array.from({ length: count }, () => {
    const t = new Int32Array(length);
    let cur = 2 + Math.floor(rnd() * (vocabulary - 2));
    for (let i = 0; i < length; i++) {
      t[i] = cur;
      cur = rnd() < 0.9 ? next[cur][Math.floor(rnd() * 4)] : 2 + Math.floor(rnd() * (vocabulary - 2));
    }
    return t;
  });
}

/**
 * The stand-in's graph: score = mean over non-padding calls of -ln P(call | previous call),
 * P looked up by bigram key (prev * V + call) in an ai.onnx.ml LabelEncoder, with a floor.
 */
function bigramGraph(vocabulary: number, window: number, seed: number): Uint8Array {
  const rnd = lcg(seed);
  const keys: number[] = [];
  const probs: number[] = [];
  for (let a = 2; a < vocabulary; a++) {
    for (let k = 0; k < 8; k++) {
      keys.push(a * vocabulary + 2 + Math.floor(rnd() * (vocabulary - 2)));
      probs.push(0.01 + rnd() * 0.2);
    }
  }
  const g = new GraphBuilder('bench-bigram');
  const x = g.input('syscalls', 'int64', ['batch', window]);
  const zero = g.constant('zero', 'int64', [], [0]);
  const prev = g.op('Pad', [g.op('Slice', [x, g.ints([0], 'starts'), g.ints([-1], 'ends'), g.ints([1], 'axes')]), g.ints([0, 1, 0, 0], 'pads'), zero]);
  const key = g.op('Add', [g.op('Mul', [prev, g.constant('base', 'int64', [], [vocabulary])]), x]);
  const p = g.op('LabelEncoder', [key], { keys_int64s: keys, values_floats: { floats: probs }, default_float: { float: 1e-4 } }, 'ai.onnx.ml');
  const valid = g.op('Cast', [g.op('Not', [g.op('Equal', [x, zero])])], { to: 1 });
  const axes = g.ints([1], 'reduce_axes');
  const sum = g.op('ReduceSum', [g.op('Mul', [g.op('Neg', [g.op('Log', [p])]), valid]), axes], { keepdims: 0 });
  const count = g.op('Max', [g.op('ReduceSum', [valid, axes], { keepdims: 0 }), g.scalar(1, 'one')]);
  g.output(g.op('Div', [sum, count]), 'float32', ['batch'], 'score');
  return g.toBytes({ opset: 17, mlOpset: 2 });
}

/** The stand-in model: bigram surprisal over 100 tokens, window 128, delta 32. */
function standInModel(): LoadedModel {
  const vocabulary = 100;
  const card: ModelCard = {
    name: 'bench-stand-in',
    family: 'bigram (stand-in)',
    window: 128,
    delta: 32,
    threshold: 5,
    vocabulary,
    training: { data: 'none: seeded random tables (bench stand-in)', sha256: '', traces: 0, syscalls: 0, abi: 'x64', seed: 1 },
    metrics: {},
    created: new Date(0).toISOString(),
  };
  const mapping = new Map(Array.from({ length: vocabulary - 2 }, (_, i) => [`sys${i}`, i + 2] as [string, number]));
  const src = '(stand-in)';
  return { card, mapping, modelBytes: bigramGraph(vocabulary, card.window, 1), files: { model: src, mapping: src, card: src }, origin: 'override' };
}

async function resolveModel(dir: string | undefined): Promise<{ model: LoadedModel; source: string }> {
  if (dir !== undefined) return { model: await loadModel({ dir }), source: dir };
  const def = packagedDefaultFiles();
  if (existsSync(def.model)) return { model: await loadModel({}), source: 'models/default' };
  return { model: standInModel(), source: 'STAND-IN: bigram surprisal graph with random tables (models/default not present)' };
}

function spread(values: number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1] };
}

/** Keeps `outstanding` calls running for `seconds`; returns windows/s and mean ms per call. */
async function timedRun(c: OnnxClassifier, batches: Int32Array[][], outstanding: number, seconds: number): Promise<{ wps: number; callMs: number; elu: number }> {
  let windows = 0;
  let calls = 0;
  let i = 0;
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const lane = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const b = batches[i++ % batches.length];
      await c.score(b);
      windows += b.length;
      calls++;
    }
  };
  await Promise.all(Array.from({ length: outstanding }, lane));
  const elapsed = (performance.now() - t0) / 1000;
  const elu = performance.eventLoopUtilization(elu0).utilization;
  return { wps: windows / elapsed, callMs: (elapsed * 1000 * outstanding) / calls, elu };
}

async function measure(model: LoadedModel, opts: OnnxClassifierOptions, batch: number, runs: number, seconds: number, windows: Int32Array[]): Promise<ModeFigures> {
  const c = await OnnxClassifier.open(model, opts);
  const batches: Int32Array[][] = [];
  for (let i = 0; i + batch <= windows.length; i += batch) batches.push(windows.slice(i, i + batch));
  const outstanding = opts.mode === 'worker' ? c.concurrency + 1 : 1;
  try {
    await timedRun(c, batches, outstanding, Math.min(0.2, seconds)); // warm-up
    const xs: { wps: number; callMs: number; elu: number }[] = [];
    for (let r = 0; r < runs; r++) xs.push(await timedRun(c, batches, outstanding, seconds));
    const delta = model.card.delta;
    return {
      windows_per_s: spread(xs.map((x) => x.wps)),
      syscalls_per_s: spread(xs.map((x) => x.wps * delta)),
      call_ms: spread(xs.map((x) => x.callMs)),
      main_thread_utilization: spread(xs.map((x) => x.elu)),
      main_thread_us_per_window: spread(xs.map((x) => (x.elu * 1e6) / x.wps)),
    };
  } finally {
    await c.close();
  }
}

export async function benchClassify(opts: ClassifyBenchOptions = {}): Promise<ClassifyBenchResult> {
  const runs = opts.runs ?? 5;
  const seconds = opts.seconds ?? 0.5;
  const { model, source } = await resolveModel(opts.modelDir);
  const { card } = model;
  // Full windows of realistic tokens (Markov traces over the model's vocabulary), cut every delta.
  const windows: Int32Array[] = [];
  for (const t of markovTraces(card.vocabulary, 16, card.window * 40, 2)) {
    for (let i = 0; i + card.window <= t.length && windows.length < 64 * 64; i += card.delta) windows.push(t.slice(i, i + card.window));
  }
  const b1 = await measure(model, { mode: 'inline', workers: 1 }, 1, runs, seconds, windows);
  const b64 = await measure(model, { mode: 'inline', workers: 1 }, 64, runs, seconds, windows);
  const workers: ClassifyBenchResult['workers'] = {};
  for (const n of opts.workerCounts ?? [1, 2]) {
    workers[`worker_x${n}`] = await measure(model, { mode: 'worker', workers: n }, 64, runs, seconds, windows);
  }
  return {
    model: { name: card.name, family: card.family, window: card.window, delta: card.delta, source },
    classify_windows_per_s: b64.windows_per_s.median,
    classify_syscalls_per_s: b64.syscalls_per_s.median,
    batch1: b1,
    batch64: b64,
    workers,
    runs,
    seconds_per_run: seconds,
  };
}

function fmt(s: Spread, digits = 0): string {
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}..${s.max.toFixed(digits)})`;
}

function printTable(r: ClassifyBenchResult): void {
  const row = (label: string, f: ModeFigures): string =>
    `${label.padEnd(22)} ${fmt(f.windows_per_s)} windows/s, ${fmt(f.syscalls_per_s)} syscalls/s, ${fmt(f.call_ms, 3)} ms/call, main thread busy ${fmt(f.main_thread_utilization, 2)} = ${fmt(f.main_thread_us_per_window, 2)} us/window`;
  const lines = [
    `model: ${r.model.name} [${r.model.family}] window ${r.model.window}, delta ${r.model.delta}; ${r.model.source}`,
    `median (min..max) of ${r.runs} runs x ${r.seconds_per_run}s`,
    row('inline, 1 thread, b1', r.batch1),
    row('inline, 1 thread, b64', r.batch64),
    ...Object.entries(r.workers).map(([k, w]) => row(`${k}, b64`, w)),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const result = await benchClassify({
    modelDir: value('--model'),
    runs: value('--runs') !== undefined ? Number(value('--runs')) : undefined,
    seconds: value('--seconds') !== undefined ? Number(value('--seconds')) : undefined,
  });
  if (args.includes('--json')) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else printTable(result);
}
