// The delivery loop of one reporter: reads its pending outbox rows in order, sends them,
// marks each delivered only once the receiver acknowledged it. On failure it waits with
// capped exponential backoff and jitter (or the receiver's Retry-After), then tries the same
// message again, so order is kept and nothing is skipped.
//
// Dead letters: a message the receiver *refuses* (`rejected`, e.g. HTTP 400/413) is retried
// up to `maxRejects` times in all, then marked dead (kept in the database with its last
// error, never sent again) and the loop moves on. Transient failures never make a message
// dead: an outage only delays delivery.
import type { Logger } from '../core/logger.js';
import type { Lifecycle } from '../core/types.js';
import type { Reporter, SendResult } from './reporter.js';
import { Backoff, delay, type BackoffOptions } from '../core/backoff.js';
import { systemTimers, type Timers } from '../core/time.js';
import type { OutboxMessage, OutboxStore } from '../core/storage.js';

export interface OutboxLoopOptions {
  store: OutboxStore;
  reporter: Reporter;
  log: Logger;
  timers?: Timers;
  /** Delays between failed attempts (default 1 s doubling to 5 min, half jitter). */
  backoff?: BackoffOptions;
  /** Rows read from the store at once (default 50). */
  batchSize?: number;
  /** Attempts of a refused message before it is marked dead (default 3). */
  maxRejects?: number;
  /** Longest Retry-After honoured (default 1 h). */
  maxRetryAfterMs?: number;
  /** How long stop() waits for sends in flight (default 2 s). */
  stopGraceMs?: number;
}

export class OutboxLoop implements Lifecycle {
  private readonly timers: Timers;
  private readonly backoff: Backoff;
  private readonly batchSize: number;
  private readonly maxRejects: number;
  private readonly maxRetryAfterMs: number;
  private running = false;
  private loop: Promise<void> | undefined;
  /** Cut short by new messages (when idle) or by stop(). */
  private idle: AbortController | undefined;
  /** Cut short by the reporter becoming ready, or by stop(). */
  private pause: AbortController | undefined;
  private readonly stopSignal = new AbortController();
  private readonly progress = new Set<() => void>();
  private delivered = 0;
  /** Messages sent at once (see sendBatch). */
  private window = 1;

  constructor(private readonly o: OutboxLoopOptions) {
    this.timers = o.timers ?? systemTimers;
    this.backoff = new Backoff({ initialMs: 1000, maxMs: 300_000, ...o.backoff });
    this.batchSize = o.batchSize ?? 50;
    this.maxRejects = o.maxRejects ?? 3;
    this.maxRetryAfterMs = o.maxRetryAfterMs ?? 3_600_000;
    o.reporter.onReady?.(() => this.pause?.abort());
  }

  get name(): string {
    return this.o.reporter.name;
  }

  /** Messages delivered since start. */
  get deliveredCount(): number {
    return this.delivered;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.loop = this.run().catch((e: unknown) => {
      this.o.log.error({ err: e, reporter: this.name }, 'outbox loop failed');
    });
  }

  /** Something was queued: look at the outbox now if idle. */
  wake(): void {
    this.idle?.abort();
  }

  /**
   * Resolves true once this reporter's outbox is empty, false if `timeoutMs` passes first
   * (or the loop stops).
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = new AbortController();
    const timer = this.timers.setTimeout(() => deadline.abort(), timeoutMs);
    try {
      for (;;) {
        if (this.o.store.outboxDepth(this.name) === 0) return true;
        if (deadline.signal.aborted || !this.running) return false;
        this.wake();
        await new Promise<void>((resolve) => {
          const done = (): void => {
            this.progress.delete(done);
            deadline.signal.removeEventListener('abort', done);
            resolve();
          };
          this.progress.add(done);
          deadline.signal.addEventListener('abort', done, { once: true });
        });
      }
    } finally {
      this.timers.clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopSignal.abort();
    this.idle?.abort();
    this.pause?.abort();
    this.notify();
    const loop = this.loop;
    if (!loop) return;
    // A send waiting on a dead link ends when the reporter stops; do not wait for it here.
    const grace = new AbortController();
    await Promise.race([loop, delay(this.o.stopGraceMs ?? 2000, this.timers, grace.signal)]);
    grace.abort();
  }

  private notify(): void {
    for (const f of [...this.progress]) f();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let batch: OutboxMessage[];
      try {
        batch = this.o.store.pendingOutbox(this.name, this.batchSize);
      } catch (e) {
        this.o.log.error({ err: e, reporter: this.name }, 'cannot read the outbox');
        await this.wait('pause', this.backoff.next());
        continue;
      }
      if (batch.length === 0) {
        this.notify();
        await this.wait('idle');
        continue;
      }
      await this.sendBatch(batch);
      this.notify();
    }
  }

  /**
   * Sends in order, up to `maxInFlight` at a time; stops at the first failure (after a wait).
   * How many go at once starts at 1 after a failure and doubles with each chunk delivered whole
   * (like TCP's slow start): a link that drops right after it came back costs one message sent
   * twice, not a full window of them.
   */
  private async sendBatch(batch: OutboxMessage[]): Promise<void> {
    const maxWidth = Math.max(1, this.o.reporter.maxInFlight ?? 1);
    for (let i = 0; i < batch.length && this.running; ) {
      const width = Math.min(maxWidth, this.window);
      const chunk = batch.slice(i, i + width);
      const results = await Promise.all(chunk.map((m) => this.sendOne(m)));
      const ok = chunk.filter((_, j) => results[j].kind === 'delivered').map((m) => m.id);
      this.settle(() => this.o.store.markDelivered(ok));
      this.delivered += ok.length;
      const failed = results.findIndex((r) => r.kind !== 'delivered');
      i += width;
      if (failed < 0) {
        this.backoff.reset();
        this.window = Math.min(maxWidth, this.window * 2);
        continue;
      }
      this.window = 1;
      await this.onFailure(chunk[failed], results[failed]);
      return;
    }
  }

  private async sendOne(m: OutboxMessage): Promise<SendResult> {
    try {
      return await this.o.reporter.send(m);
    } catch (e) {
      return { kind: 'retry', reason: (e as Error).message };
    }
  }

  private async onFailure(m: OutboxMessage, r: SendResult): Promise<void> {
    switch (r.kind) {
      case 'delivered':
        return;
      case 'rejected': {
        const dead = m.attempts + 1 >= this.maxRejects;
        this.settle(() => this.o.store.markFailed(m.id, r.reason, dead));
        if (dead) {
          this.o.log.error({ reporter: this.name, alert: m.alertId, attempts: m.attempts + 1, reason: r.reason }, 'message refused; given up (kept in the database as dead)');
          return;
        }
        const wait = this.backoff.next();
        this.o.log.warn({ reporter: this.name, alert: m.alertId, reason: r.reason, retryInMs: wait }, 'message refused; will retry');
        await this.wait('pause', wait);
        return;
      }
      case 'retry': {
        const step = this.backoff.next();
        const wait = r.afterMs !== undefined ? Math.min(Math.max(r.afterMs, step), this.maxRetryAfterMs) : step;
        this.o.log.warn({ reporter: this.name, reason: r.reason, pending: this.safeDepth(), retryInMs: wait }, 'delivery failed; will retry');
        await this.wait('pause', wait);
        return;
      }
    }
  }

  private safeDepth(): number | undefined {
    try {
      return this.o.store.outboxDepth(this.name);
    } catch {
      return undefined;
    }
  }

  /** Store writes after a send: a failure is logged (the message stays pending and is sent again). */
  private settle(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.o.log.error({ err: e, reporter: this.name }, 'cannot record delivery');
    }
  }

  private async wait(kind: 'idle' | 'pause', ms?: number): Promise<void> {
    if (!this.running) return;
    const ctl = new AbortController();
    if (kind === 'idle') this.idle = ctl;
    else this.pause = ctl;
    const onStop = (): void => ctl.abort();
    this.stopSignal.signal.addEventListener('abort', onStop, { once: true });
    try {
      if (ms === undefined) {
        await new Promise<void>((resolve) => ctl.signal.addEventListener('abort', () => resolve(), { once: true }));
      } else {
        await delay(ms, this.timers, ctl.signal);
      }
    } finally {
      this.stopSignal.signal.removeEventListener('abort', onStop);
      if (kind === 'idle') this.idle = undefined;
      else this.pause = undefined;
    }
  }
}
