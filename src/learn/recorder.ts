// Records this device's normal behaviour for on-device retraining: every process's syscalls
// (as names, so a retrained model may choose its own vocabulary) go into the database's
// baseline table when the process exits, in batches.
import type { Counters } from '../core/counters.js';
import type { Logger } from '../core/logger.js';
import type { EventHandler, EventLine, ProcessInfo } from '../core/types.js';
import type { Store } from '../store/store.js';
import { NAMES_BY_NUMBER, normaliseName } from '../syscalls/names.js';
import { FIRST_MAPPING_ID } from '../syscalls/mapping.js';
import { Tokenizer, UNKNOWN_TOKEN } from '../syscalls/tokenizer.js';
import type { Clock } from '../core/time.js';
import type { BaselineTrace } from '../core/storage.js';

/** A tokenizer over every syscall name of every ABI, and the names back from tokens. */
export function fullVocabulary(): { tokenizer: Tokenizer; names: readonly string[] } {
  const all = new Set<string>();
  for (const table of Object.values(NAMES_BY_NUMBER)) for (const n of table) if (n !== undefined) all.add(normaliseName(n));
  const sorted = [...all].sort();
  const mapping = new Map(sorted.map((n, i) => [n, i + FIRST_MAPPING_ID]));
  const names: string[] = [];
  for (const [n, id] of mapping) names[id] = n;
  names[UNKNOWN_TOKEN] = 'unknown';
  return { tokenizer: Tokenizer.fromMapping(mapping), names };
}

export interface BaselineRecorderOptions {
  store: Pick<Store, 'appendBaseline'>;
  names: readonly string[];
  counters: Counters;
  log: Logger;
  clock: Clock;
  /** Calls kept per process at most (the rest are counted, not stored). */
  maxCallsPerProcess?: number;
  /** Traces written per batch. */
  batch?: number;
  /** Most processes followed at once; beyond it the oldest is written early. */
  maxProcesses?: number;
}

interface Live {
  info: ProcessInfo | undefined;
  startedAt: number;
  tokens: number[];
}

export class BaselineRecorder implements EventHandler {
  private readonly live = new Map<string, Live>();
  private pending: BaselineTrace[] = [];
  private readonly maxCalls: number;
  private readonly batch: number;
  private readonly maxProcesses: number;
  /** Traces written so far. */
  written = 0;

  constructor(private readonly o: BaselineRecorderOptions) {
    this.maxCalls = o.maxCallsPerProcess ?? 100_000;
    this.batch = o.batch ?? 256;
    this.maxProcesses = o.maxProcesses ?? 20_000;
  }

  syscall(key: string, token: number, line: EventLine): void {
    let p = this.live.get(key);
    if (p === undefined) {
      if (this.live.size >= this.maxProcesses) this.finish(this.live.keys().next().value as string);
      p = { info: line.process(), startedAt: this.o.clock.now(), tokens: [] };
      this.live.set(key, p);
      this.o.counters.processes++;
    }
    if (p.tokens.length < this.maxCalls) p.tokens.push(token);
  }

  exec(process: ProcessInfo): void {
    const p = this.live.get(process.execId);
    if (p) p.info = process;
    else {
      this.live.set(process.execId, { info: process, startedAt: this.o.clock.now(), tokens: [] });
      this.o.counters.processes++;
    }
  }

  exit(key: string): void {
    this.finish(key);
  }

  /** Writes every live process's calls so far and whatever is batched. */
  flush(): void {
    for (const key of [...this.live.keys()]) this.finish(key);
    this.write();
  }

  private finish(key: string): void {
    const p = this.live.get(key);
    if (p === undefined) return;
    this.live.delete(key);
    if (p.tokens.length === 0) return;
    this.pending.push({
      execId: key,
      binary: p.info?.binary ?? 'unknown',
      startedAt: p.startedAt,
      syscalls: p.tokens.map((t) => this.o.names[t] ?? 'unknown').join(' '),
    });
    if (this.pending.length >= this.batch) this.write();
  }

  private write(): void {
    if (this.pending.length === 0) return;
    try {
      this.o.store.appendBaseline(this.pending);
      this.written += this.pending.length;
      this.pending = [];
    } catch (e) {
      // Kept for the next write; bounded, so a database that stays broken cannot eat memory.
      const keep = this.batch * 16;
      const dropped = Math.max(0, this.pending.length - keep);
      this.o.log.error({ err: e, traces: this.pending.length, dropped }, 'cannot write the baseline; will retry');
      if (dropped > 0) this.pending = this.pending.slice(dropped);
    }
  }
}
