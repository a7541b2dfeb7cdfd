// Recordings of two generated programs with habits of their own, for per-program models:
// /usr/bin/alpha reads files, /usr/bin/beta manages memory. Attacks: beta doing alpha's
// habits (only a per-program model can tell), and a program never seen before, from /tmp.
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { prng } from '../../src/core/random.js';
import { execId, execLine, exitLine, rfc3339Nanos, syscallLine, type RecordedProcess } from '../../src/recording/tetragon-events.js';
import { NAMES_BY_NUMBER } from '../../src/syscalls/names.js';

const HABITS: Record<string, string[][]> = {
  alpha: [['openat', 'newfstatat', 'read', 'read', 'close'], ['poll', 'recvfrom', 'sendto', 'clock_gettime']],
  beta: [['mmap', 'mprotect', 'munmap', 'brk'], ['getpid', 'write', 'futex', 'nanosleep']],
};

const id = (name: string): number => {
  const i = NAMES_BY_NUMBER.x64.indexOf(name);
  if (i < 0) throw new Error(`no x64 syscall ${name}`);
  return i;
};

export interface ProgramRecordings {
  train: string;
  normal: string;
  attacks: string;
  labels: string;
}

interface Writer {
  lines: string[];
  t: bigint;
  pid: number;
}

function run(w: Writer, binary: string, calls: string[]): string {
  const p: RecordedProcess = { node: 'n1', pid: w.pid++, ktime: w.t, uid: 0, cwd: '/', binary, arguments: '', startTime: rfc3339Nanos(w.t) };
  const time = (): string => rfc3339Nanos((w.t += 1000n));
  w.lines.push(execLine(p, time()));
  for (const c of calls) w.lines.push(syscallLine(p, 'x64', id(c), time()));
  w.lines.push(exitLine(p, time()));
  return execId(p.node, p.ktime, p.pid);
}

function calls(next: () => number, habits: string[][], length: number): string[] {
  const out: string[] = [];
  while (out.length < length) {
    const h = habits[Math.floor(next() * habits.length)];
    out.push(...h.map((c) => (next() < 0.02 ? h[Math.floor(next() * h.length)] : c)));
  }
  return out.slice(0, length);
}

export function writeProgramRecordings(dir: string, seed = 3): ProgramRecordings {
  const next = prng(seed);
  const out: ProgramRecordings = { train: join(dir, 'train.jsonl.gz'), normal: join(dir, 'normal.jsonl.gz'), attacks: join(dir, 'attacks.jsonl.gz'), labels: join(dir, 'labels.json') };
  const normal = (w: Writer, n: number): void => {
    for (let i = 0; i < n; i++) for (const prog of ['alpha', 'beta']) run(w, `/usr/bin/${prog}`, calls(next, HABITS[prog], 200 + Math.floor(next() * 200)));
  };
  const write = (file: string, w: Writer): void => writeFileSync(file, gzipSync(`${w.lines.join('\n')}\n`));
  const train: Writer = { lines: [], t: 1_000_000_000n, pid: 100 };
  normal(train, 40);
  write(out.train, train);
  const test: Writer = { lines: [], t: 9_000_000_000n, pid: 5000 };
  normal(test, 20);
  write(out.normal, test);
  const attacks: Writer = { lines: [], t: 19_000_000_000n, pid: 9000 };
  normal(attacks, 5);
  const labels: Record<string, { type: string; instance: string }> = {};
  for (let i = 0; i < 4; i++) {
    // beta doing alpha's work: every call is one beta knows from the shared model.
    labels[run(attacks, '/usr/bin/beta', calls(next, HABITS.alpha, 300))] = { type: 'cross_program', instance: `cross_program#${i}` };
    labels[run(attacks, `/tmp/.x${i}`, calls(next, HABITS.beta, 100))] = { type: 'dropped_binary', instance: `dropped_binary#${i}` };
  }
  write(out.attacks, attacks);
  writeFileSync(out.labels, JSON.stringify({ attacks: labels }));
  return out;
}
