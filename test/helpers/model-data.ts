// Small generated trace sets for model tests: "normal" processes repeat a few fixed call
// patterns with some noise; "attack" processes splice in a pattern normal ones never use.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prng } from '../../src/core/random.js';

const NORMAL_PATTERNS = [
  ['openat', 'fstat', 'read', 'read', 'close'],
  ['poll', 'recvfrom', 'sendto', 'clock_gettime'],
  ['mmap', 'mprotect', 'munmap', 'brk'],
  ['getpid', 'write', 'futex', 'nanosleep'],
];
const ATTACK_PATTERNS = [
  ['socket', 'connect', 'dup2', 'dup2', 'execve'],
  ['setuid', 'openat', 'write', 'chmod', 'unlink'],
];

/** Syscall names of one generated process. */
export function generatedTrace(next: () => number, attack: boolean, length: number): string[] {
  const out: string[] = [];
  const pick = <T>(a: readonly T[]): T => a[Math.floor(next() * a.length)];
  while (out.length < length) {
    const p = attack && next() < 0.5 ? pick(ATTACK_PATTERNS) : pick(NORMAL_PATTERNS);
    for (const c of p) out.push(next() < 0.03 ? pick(NORMAL_PATTERNS.flat()) : c);
  }
  return out.slice(0, length);
}

export interface GeneratedSet {
  train: string;
  normal: string;
  attack: string;
}

/**
 * Writes an ADFA-LD-like layout below `dir`: train/ and normal/ (flat trace files of names),
 * attack/Alpha_1, attack/Alpha_2, attack/Beta_1 (attack types Alpha and Beta).
 */
export function writeGeneratedSet(dir: string, seed = 7, sizes = { train: 60, normal: 40, attack: 12 }): GeneratedSet {
  const next = prng(seed);
  const write = (folder: string, n: number, attack: boolean): void => {
    mkdirSync(folder, { recursive: true });
    for (let i = 0; i < n; i++) {
      const len = 40 + Math.floor(next() * 200);
      writeFileSync(join(folder, `trace-${i}.txt`), `${generatedTrace(next, attack, len).join(' ')}\n`);
    }
  };
  const set = { train: join(dir, 'train'), normal: join(dir, 'normal'), attack: join(dir, 'attack') };
  write(set.train, sizes.train, false);
  write(set.normal, sizes.normal, false);
  write(join(set.attack, 'Alpha_1'), sizes.attack, true);
  write(join(set.attack, 'Alpha_2'), sizes.attack, true);
  write(join(set.attack, 'Beta_1'), sizes.attack, true);
  return set;
}
