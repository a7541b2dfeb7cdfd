// The reporters (MQTT, Ntfy) with one outbox loop each, run as one part: start connects and
// starts delivering; stop ends delivery, then disconnects. The daemon builds the reporters.
import type { Logger } from '../core/logger.js';
import { stopAllSettled } from '../core/lifecycle.js';
import type { OutboxStore } from '../core/storage.js';
import type { Lifecycle } from '../core/types.js';
import { OutboxLoop } from './outbox.js';
import type { Reporter } from './reporter.js';

export interface ReportingOptions {
  reporters: readonly (Reporter & Lifecycle)[];
  store: OutboxStore;
  log: Logger;
}

export class Reporting implements Lifecycle {
  private readonly loops: OutboxLoop[];
  private readonly reporters: readonly (Reporter & Lifecycle)[];

  constructor(private readonly o: ReportingOptions) {
    this.reporters = o.reporters;
    this.loops = o.reporters.map((reporter) => new OutboxLoop({ store: o.store, reporter, log: o.log.child({ module: 'outbox' }) }));
  }

  /** Outbox names for the alerter: every alert is queued for each. */
  get names(): string[] {
    return this.reporters.map((r) => r.name);
  }

  /** An alert was queued: deliver it now. Pass as the alerter's `onQueued`. */
  wake(): void {
    for (const l of this.loops) l.wake();
  }

  /** True once every outbox is empty; false when `timeoutMs` passed first. */
  async drain(timeoutMs: number): Promise<boolean> {
    const results = await Promise.all(this.loops.map((l) => l.drain(timeoutMs)));
    return results.every(Boolean);
  }

  async start(): Promise<void> {
    for (const r of this.reporters) await r.start();
    for (const l of this.loops) await l.start();
  }

  /** Ends every delivery loop, then stops every reporter (MQTT says `offline`), whatever fails on the way. */
  async stop(): Promise<void> {
    await stopAllSettled(this.loops.map((l) => ({ name: `outbox ${l.name}`, part: l })), this.o.log);
    await stopAllSettled(this.reporters.map((r) => ({ name: r.name, part: r })), this.o.log);
  }
}
