// Applies retention (ARGOS_RETENTION_AGE, ARGOS_RETENTION_SIZE) at start and then
// periodically, logging what was removed; also keeps a counters snapshot each round and at stop.
import type { Logger } from '../core/logger.js';
import type { Lifecycle } from '../core/types.js';
import type { Store } from './store.js';
import { systemClock, systemTimers, type Clock, type Timers } from '../core/time.js';

export interface RetentionTaskOptions {
  store: Store;
  maxAgeMs: number;
  maxBytes: number;
  log: Logger;
  /** Default 1 hour. */
  intervalMs?: number;
  /** Counters to store with each round (the `counters` table), e.g. `() => counters.snapshot()`. */
  snapshot?: () => Record<string, number>;
  timers?: Timers;
  clock?: Clock;
}

export class RetentionTask implements Lifecycle {
  private timer: unknown;
  private running = false;
  private readonly timers: Timers;
  private readonly clock: Clock;
  /** Wall and monotonic time at start: the wall time as it would be had the clock not been set since. */
  private anchor = { wall: 0, mono: 0 };

  constructor(private readonly o: RetentionTaskOptions) {
    this.timers = o.timers ?? systemTimers;
    this.clock = o.clock ?? systemClock;
  }

  /**
   * The time ages are measured from: the earlier of the wall clock and the wall clock as it
   * would read had nobody set it since the start (start + monotonic time elapsed). A clock set
   * forwards (a device without a battery-backed clock getting NTP time, a mistake corrected)
   * must not make the rows of the last minutes look months old and delete them; a clock set
   * backwards only delays deletion (the size limit still holds).
   */
  private retentionNow(): number {
    const steady = this.anchor.wall + (this.clock.monotonic() - this.anchor.mono);
    return Math.min(this.clock.now(), steady);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.anchor = { wall: this.clock.now(), mono: this.clock.monotonic() };
    this.runOnce();
    this.arm();
  }

  async stop(): Promise<void> {
    const wasRunning = this.running;
    this.running = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    if (wasRunning) this.saveSnapshot();
  }

  private saveSnapshot(): void {
    if (!this.o.snapshot) return;
    try {
      this.o.store.saveCounters(this.o.snapshot());
    } catch (e) {
      this.o.log.error({ err: e }, 'cannot store a counters snapshot');
    }
  }

  runOnce(): void {
    try {
      const r = this.o.store.retention(this.o.maxAgeMs, this.o.maxBytes, this.retentionNow());
      if (r.alerts + r.processes + r.outbox + r.baseline + r.counters > 0) this.o.log.info({ removed: r, usedBytes: this.o.store.usedBytes() }, 'retention removed old rows');
    } catch (e) {
      this.o.log.error({ err: e }, 'retention failed');
    }
    this.saveSnapshot();
  }

  private arm(): void {
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      if (!this.running) return;
      this.runOnce();
      this.arm();
    }, this.o.intervalMs ?? 3_600_000);
  }
}
