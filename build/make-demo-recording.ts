// Writes models/demo/adfa-ld.jsonl.gz: a Tetragon-format recording of real ADFA-LD traces
// (held-out normal traces and attacks, i386 syscall numbers, as a 64-bit kernel reports
// 32-bit compat calls), for `argos replay --demo`. Deterministic: same data, same bytes.
// Usage: node --import tsx build/make-demo-recording.ts [ADFA_DIR]
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execLine, exitLine, syscallLine, rfc3339Nanos, type RecordedProcess } from '../src/recording/tetragon-events.js';

const root = process.argv[2] ?? new URL('../../shared/datasets/adfa-ld', import.meta.url).pathname;
const NORMAL = 40; // evenly spaced over Validation_Data_Master
const ATTACKS_PER_TYPE = 2;
const CONCURRENT = 4; // processes interleaved at once, as on a live host

function traceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? traceFiles(join(dir, e.name)) : e.name.endsWith('.txt') ? [join(dir, e.name)] : []))
    .sort();
}

const validation = traceFiles(join(root, 'Validation_Data_Master'));
const normal = Array.from({ length: NORMAL }, (_, i) => validation[Math.floor((i * validation.length) / NORMAL)]);
const attackDirs = readdirSync(join(root, 'Attack_Data_Master')).sort();
const types = [...new Set(attackDirs.map((d) => d.replace(/_\d+$/, '')))];
// A fixed pseudo-random sample of each type's traces (not hand-picked: any trace of an
// attack run may be chosen, including its helper processes).
let seed = 20130401;
const random = (n: number) => {
  seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
  return seed % n;
};
const attacks = types.flatMap((t) => {
  const pool = attackDirs.filter((d) => d.replace(/_\d+$/, '') === t).flatMap((d) => traceFiles(join(root, 'Attack_Data_Master', d)));
  return Array.from({ length: ATTACKS_PER_TYPE }, () => pool.splice(random(pool.length), 1)[0]);
});

// Attacks spread among the normal traces, in a fixed order.
const chosen: string[] = [];
const step = Math.floor(normal.length / attacks.length);
normal.forEach((f, i) => {
  chosen.push(f);
  if (i % step === step - 1 && attacks.length > 0) chosen.push(attacks.shift() as string);
});
chosen.push(...attacks);

const node = 'demo-edge';
let clock = 1_735_689_600_000_000_000n; // 2025-01-01T00:00:00Z in ns
const tick = () => rfc3339Nanos((clock += 20_000n));
const lines: string[] = [];
for (let g = 0; g < chosen.length; g += CONCURRENT) {
  const group = chosen.slice(g, g + CONCURRENT).map((file, k) => {
    const pid = 2000 + g + k;
    const proc: RecordedProcess = {
      node,
      pid,
      ktime: clock + BigInt(k),
      uid: 0,
      cwd: '/',
      binary: `/adfa-ld/${relative(root, file).replace(/\.txt$/, '')}`,
      arguments: '',
      startTime: rfc3339Nanos(clock),
      parent: { pid: 1, ktime: 1n, binary: '/sbin/init' },
    };
    const calls = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    lines.push(execLine(proc, tick()));
    return { proc, calls, next: 0 };
  });
  let live = group.length;
  while (live > 0) {
    live = 0;
    for (const p of group) {
      if (p.next < p.calls.length) {
        lines.push(syscallLine(p.proc, 'i386', p.calls[p.next++], tick()));
        if (p.next === p.calls.length) lines.push(exitLine(p.proc, tick()));
        else live++;
      }
    }
  }
}
const out = new URL('../models/demo/adfa-ld.jsonl.gz', import.meta.url).pathname;
mkdirSync(new URL('../models/demo/', import.meta.url).pathname, { recursive: true });
writeFileSync(out, gzipSync(lines.join('\n') + '\n', { level: 9 }));
console.log(`${out}: ${lines.length} events, ${chosen.length} processes (${chosen.length - NORMAL} attacks)`);
