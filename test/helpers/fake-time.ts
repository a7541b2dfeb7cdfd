// A clock and timers that tests move by hand, and a bounded wait for a condition.
import type { Clock } from '../../src/core/types.js';
import type { Timers } from '../../src/sources/backoff.js';

interface Pending {
  at: number;
  ms: number;
  fn: () => void;
  id: number;
}

export class FakeTime implements Clock, Timers {
  private t: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const p = { at: this.t + ms, ms, fn, id: ++this.seq };
    this.pending.push(p);
    return p;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p !== handle);
  }

  /** Delays of the timers waiting now, in the order they were set. */
  get waiting(): number[] {
    return this.pending.map((p) => p.ms);
  }

  /** Moves time forward, running every timer that falls due (in due order). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.pending.filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.pending = this.pending.filter((p) => p !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
}

/**
 * Waits until `cond()` holds, yielding to the event loop between checks; fails after
 * `limitMs` of real time. For conditions reached by I/O or promise chains, not for timing.
 */
export async function waitFor(cond: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
