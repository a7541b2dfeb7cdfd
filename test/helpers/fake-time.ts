// The one fake of the program's clock and timers (src/core/time.ts): tests move time by hand,
// run queued immediates when they choose, and can jump the wall clock without moving the
// monotonic one (a clock being set). Plus a bounded wait for a condition.
import type { Clock, TimerHandle, Timers } from '../../src/core/time.js';

interface Pending {
  at: number;
  ms: number;
  fn: () => void;
  id: number;
}

export class FakeTime implements Clock, Timers {
  private wall: number;
  private mono = 0;
  private seq = 0;
  private pending: Pending[] = [];
  private immediates: (() => void)[] = [];

  constructor(start = 1_700_000_000_000) {
    this.wall = start;
  }

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.mono;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const p = { at: this.mono + ms, ms, fn, id: ++this.seq };
    this.pending.push(p);
    return p;
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending = this.pending.filter((p) => p !== handle);
  }

  immediate(fn: () => void): void {
    this.immediates.push(fn);
  }

  /** Delays of the timers waiting now, in the order they were set. */
  get waiting(): number[] {
    return this.pending.map((p) => p.ms);
  }

  /** Immediates queued and not run yet. */
  get pendingImmediates(): number {
    return this.immediates.length;
  }

  /** Runs the immediates queued so far (not the ones they queue). */
  runImmediates(): void {
    const fns = this.immediates;
    this.immediates = [];
    for (const fn of fns) fn();
  }

  /** Moves both clocks forward, running every timer that falls due (in due order). */
  advance(ms: number): void {
    const end = this.mono + ms;
    for (;;) {
      const due = this.pending.filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.pending = this.pending.filter((p) => p !== due);
      this.wall += due.at - this.mono;
      this.mono = due.at;
      due.fn();
    }
    this.wall += end - this.mono;
    this.mono = end;
  }

  /** Sets the wall clock forwards (positive) or backwards (negative); timers and the monotonic clock do not move. */
  jump(ms: number): void {
    this.wall += ms;
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
