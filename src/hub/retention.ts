// Removes alerts and command results older than ARGOS_HUB_RETENTION_AGE, at start and then
// hourly. Several hubs may run it at once: a delete twice deletes nothing more.
import type { Logger } from '../core/logger.js';
import type { Lifecycle } from '../core/types.js';
import type { Clock, Timers } from '../core/time.js';
import type { HubStore } from './store/store.js';

export interface HubRetentionOptions {
  store: Pick<HubStore, 'retention'>;
  maxAgeMs: number;
  log: Logger;
  clock: Clock;
  timers: Timers;
  /** Default 1 hour. */
  intervalMs?: number;
}

export class HubRetention implements Lifecycle {
  private timer: unknown;
  private running = false;
  private round: Promise<void> | undefined;

  constructor(private readonly o: HubRetentionOptions) {}

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.round = this.runOnce();
    await this.round;
    this.arm();
  }

  async runOnce(): Promise<void> {
    try {
      const r = await this.o.store.retention(this.o.clock.now() - this.o.maxAgeMs);
      if (r.alerts + r.commands > 0) this.o.log.info({ removed: r }, 'hub retention removed old rows');
    } catch (e) {
      this.o.log.error({ err: e }, 'hub retention failed');
    }
  }

  private arm(): void {
    if (!this.running) return;
    this.timer = this.o.timers.setTimeout(
      () => {
        this.timer = undefined;
        this.round = this.runOnce().finally(() => this.arm());
      },
      this.o.intervalMs ?? 3_600_000,
      { unref: true },
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.o.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.round;
  }
}
