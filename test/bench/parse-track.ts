// Benchmark: parse + track throughput on one core, next to merely splitting the same file
// into lines.
//
//   node --import tsx test/bench/parse-track.ts [--json] [--runs N] [--processes N] [--per-process N]
//
// A deterministic recording of full-size Tetragon events (pod context, long command lines,
// every field of the event format notes) is generated into a temporary folder and deleted
// afterwards. The measurements read it the same way the daemon's sources do (1 MiB reads
// through the shared LineSplitter): "split" takes each line as a string (decoded from UTF-8,
// what reading a file line by line means in JavaScript) and only counts it; "parse+track"
// hands each line to the Parser (which takes the line's bytes, see src/parser/parser.ts)
// feeding a Tracker (window 1024, delta 256) whose windows go to a sink that only counts
// them. "line ends" (context, not a goal) takes the bytes and only counts: reading plus
// finding the newlines, the floor under both. Figures are syscall events per
// second (the same event count divided by each run's time), the median of `runs` alternating
// runs; `ratio` is the median of each run's parse+track / split ratio; `spread` is
// (max - min) / median of the parse+track runs (large when other work shares the machine).
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Counters } from '../../src/core/counters.js';
import { silentLogger } from '../../src/core/logger.js';
import type { LineSink } from '../../src/core/types.js';
import { Parser } from '../../src/parser/parser.js';
import { writeSyntheticRecording, type SyntheticStats } from '../../src/recording/synthetic.js';
import { LineSplitter } from '../../src/sources/lines.js';
import { NAMES_BY_NUMBER } from '../../src/syscalls/names.js';
import { Tokenizer } from '../../src/syscalls/tokenizer.js';
import { Tracker } from '../../src/tracker/tracker.js';
import { fixedClock } from '../../src/core/time.js';

export interface ParseTrackOptions {
  runs?: number;
  processes?: number;
  syscallsPerProcess?: number;
  seed?: number;
  window?: number;
  delta?: number;
}

export interface ParseTrackResult {
  parse_track_events_per_s: number;
  line_split_events_per_s: number;
  /** Median over runs of parse+track rate / split rate of the same run (pairs share the machine's load). */
  ratio: number;
  runs: number;
  spread: number;
  recording: SyntheticStats & { mean_line_bytes: number };
  windows: number;
  parse_track_runs_per_s: number[];
  line_split_runs_per_s: number[];
  /** Reading and finding line ends only (bytes, no decoding): the floor under both. */
  line_ends_events_per_s: number;
}

const CHUNK = 1 << 20;

/** Reads `path` through a LineSplitter into `sink`; returns seconds. */
function readThrough(path: string, sink: LineSink): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(CHUNK);
  const splitter = new LineSplitter(sink);
  const t0 = process.hrtime.bigint();
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      splitter.push(buf, 0, n);
    }
    splitter.end();
  } finally {
    closeSync(fd);
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function x64Tokenizer(): Tokenizer {
  const names = [...new Set(NAMES_BY_NUMBER.x64.filter((n): n is string => n !== undefined))].sort();
  return Tokenizer.fromMapping(new Map(names.map((n, i) => [n, i + 2])));
}

export async function benchParseTrack(opts: ParseTrackOptions = {}): Promise<ParseTrackResult> {
  const runs = opts.runs ?? 5;
  const window = opts.window ?? 1024;
  const delta = opts.delta ?? 256;
  const dir = mkdtempSync(join(tmpdir(), 'argos-bench-'));
  try {
    const path = join(dir, 'recording.jsonl');
    const stats = await writeSyntheticRecording(path, {
      seed: opts.seed ?? 20250101,
      processes: opts.processes ?? 1000,
      syscallsPerProcess: opts.syscallsPerProcess ?? 1100,
      concurrency: 64,
    });
    const tokenizer = x64Tokenizer();
    const split: number[] = [];
    const parse: number[] = [];
    const ends: number[] = [];
    let windows = 0;
    for (let r = 0; r <= runs; r++) {
      let lines = 0;
      const ts = readThrough(path, { line: () => void lines++ });
      if (lines !== stats.lines) throw new Error(`split saw ${lines} lines, expected ${stats.lines}`);
      let raw = 0;
      const te = readThrough(path, { line: () => void raw++, bytes: () => void raw++ });
      if (raw !== stats.lines) throw new Error(`line ends saw ${raw} lines, expected ${stats.lines}`);
      const counters = new Counters();
      const log = silentLogger();
      let w = 0;
      const tracker = new Tracker({ window, delta, minWindow: 16, maxProcesses: 20_000, sink: { window: () => void w++ }, counters, clock: fixedClock(), log });
      const parser = new Parser({ handler: tracker, tokenizer, counters, log, nativeAbi: 'x64' });
      const tp = readThrough(path, parser);
      if (counters.syscalls !== stats.syscalls || counters.malformed !== 0) {
        throw new Error(`parse+track saw ${counters.syscalls} syscalls and ${counters.malformed} malformed lines, expected ${stats.syscalls} and 0`);
      }
      windows = w;
      // Run 0 warms up the JIT and the page cache.
      if (r > 0) {
        split.push(stats.syscalls / ts);
        parse.push(stats.syscalls / tp);
        ends.push(stats.syscalls / te);
      }
    }
    const p = median(parse);
    const s = median(split);
    return {
      parse_track_events_per_s: Math.round(p),
      line_split_events_per_s: Math.round(s),
      ratio: Number(median(parse.map((x, i) => x / split[i])).toFixed(3)),
      runs,
      spread: Number(((Math.max(...parse) - Math.min(...parse)) / p).toFixed(3)),
      recording: { ...stats, mean_line_bytes: Math.round(stats.bytes / stats.lines) },
      windows,
      parse_track_runs_per_s: parse.map(Math.round),
      line_split_runs_per_s: split.map(Math.round),
      line_ends_events_per_s: Math.round(median(ends)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function arg(argv: string[], name: string): number | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = Number(argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} needs a whole number >= 1`);
  return v;
}

async function main(argv: string[]): Promise<void> {
  const r = await benchParseTrack({ runs: arg(argv, '--runs'), processes: arg(argv, '--processes'), syscallsPerProcess: arg(argv, '--per-process') });
  if (argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const fmt = (n: number) => n.toLocaleString('en-US');
  const rows: [string, string][] = [
    ['recording', `${fmt(r.recording.syscalls)} syscall events, ${fmt(r.recording.lines)} lines, ${(r.recording.bytes / 2 ** 20).toFixed(0)} MiB, ${r.recording.mean_line_bytes} B/line`],
    ['parse+track', `${fmt(r.parse_track_events_per_s)} events/s (runs: ${r.parse_track_runs_per_s.map(fmt).join(', ')})`],
    ['line split', `${fmt(r.line_split_events_per_s)} events/s (runs: ${r.line_split_runs_per_s.map(fmt).join(', ')})`],
    ['ratio', `${r.ratio} of the line-split rate (goal >= 0.5)`],
    ['line ends', `${fmt(r.line_ends_events_per_s)} events/s (reading and finding newlines only, no decoding)`],
    ['spread', `${(r.spread * 100).toFixed(1)}% of the median over ${r.runs} runs`],
    ['windows', fmt(r.windows)],
  ];
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(12)} ${v}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`parse-track: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
