// Capped exponential backoff with jitter (restarting sources, reconnecting to a broker,
// retrying deliveries), and a wait on the injected timers that a signal can cut short.
import type { Timers } from './time.js';

export interface BackoffOptions {
  /** First delay before jitter (ms). */
  initialMs?: number;
  /** Upper bound of any delay (ms). */
  maxMs?: number;
  factor?: number;
  /**
   * Fraction of each delay that is random: the delay is `d * (1 - jitter * r)` with
   * `d` the capped exponential step and `r` in [0, 1). 0 = no jitter.
   */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private step = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 1000;
    this.maxMs = options.maxMs ?? 60_000;
    this.factor = options.factor ?? 2;
    this.jitter = Math.min(Math.max(options.jitter ?? 0.5, 0), 1);
    this.random = options.random ?? Math.random;
  }

  /** Failures since the last reset. */
  get attempts(): number {
    return this.step;
  }

  /** The delay before the next attempt; each call moves one step up. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** Math.min(this.step, 64));
    this.step++;
    return Math.round(base * (1 - this.jitter * this.random()));
  }

  /** Back to the first step (after the source ran well for a while). */
  reset(): void {
    this.step = 0;
  }
}

/**
 * Waits `ms` on the injected timers; resolves early (with false) when `signal` aborts.
 * Resolves true when the full time has passed.
 */
export function delay(ms: number, timers: Timers, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve(false);
      return;
    }
    const onAbort = (): void => {
      timers.clearTimeout(handle);
      resolve(false);
    };
    const handle = timers.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
