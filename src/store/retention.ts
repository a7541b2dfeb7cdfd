// Applies retention (ARGOS_RETENTION_AGE, ARGOS_RETENTION_SIZE) at start and then
// periodically, logging what was removed.
import type { Logger } from '../core/logger.js';
import type { Lifecycle } from '../core/types.js';
import { systemTimers, type Timers } from '../sources/backoff.js';
import type { Store } from './store.js';

export interface RetentionTaskOptions {
  store: Store;
  maxAgeMs: number;
  maxBytes: number;
  log: Logger;
  /** Default 1 hour. */
  intervalMs?: number;
  timers?: Timers;
}

export class RetentionTask implements Lifecycle {
  private timer: unknown;
  private running = false;
  private readonly timers: Timers;

  constructor(private readonly o: RetentionTaskOptions) {
    this.timers = o.timers ?? systemTimers;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.runOnce();
    this.arm();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  runOnce(): void {
    try {
      const r = this.o.store.retention(this.o.maxAgeMs, this.o.maxBytes);
      if (r.alerts + r.processes + r.outbox + r.baseline + r.counters > 0) this.o.log.info({ removed: r, usedBytes: this.o.store.usedBytes() }, 'retention removed old rows');
    } catch (e) {
      this.o.log.error({ err: e }, 'retention failed');
    }
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
