// The one clock and the one set of timers of the whole program, injected everywhere so tests
// can drive time (test/helpers/fake-time.ts implements both).
//
// Two readings of the clock: `now()` is wall-clock time (what goes into alerts, stored rows and
// logs), `monotonic()` never jumps when the system clock is set (what measures durations:
// deadlines, throttling windows, backoff, batch latency, learning periods).

export interface Clock {
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
  /** Milliseconds from an arbitrary origin that only moves forward. */
  monotonic(): number;
}

/** Opaque handle of a pending timer. */
export type TimerHandle = unknown;

export interface TimerOptions {
  /** The timer alone does not keep the process alive (deadlines, watchdog pings). */
  unref?: boolean;
}

export interface Timers {
  /** Runs `fn` once after `ms`. */
  setTimeout(fn: () => void, ms: number, options?: TimerOptions): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Runs `fn` once the current burst of synchronous work is over (next macrotask). */
  immediate(fn: () => void): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

export const systemTimers: Timers = {
  setTimeout(fn, ms, options) {
    const t = setTimeout(fn, ms);
    if (options?.unref) t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  immediate: (fn) => void setImmediate(fn),
};

/** A clock that stands still at `t` (offline tools that cut windows without a time of their own). */
export function fixedClock(t = 0): Clock {
  return { now: () => t, monotonic: () => t };
}
