// An AlertStore that never loses an alert to a failing write (disk full, I/O error, a locked
// or read-only database): what the store refuses is kept in memory, in order, up to a bound,
// and written as soon as the store takes writes again (tried on every new write and on a
// timer with capped backoff). The alerter writes through it and never sees the failure.
// Beyond the bound the oldest waiting alert is given up and counted. Health and metrics read
// `status()`; a log line says when writing stops and when it resumes.
import type { Alert } from '../core/alert.js';
import type { Logger } from '../core/logger.js';
import type { AlertStore, ProcessRecord } from '../core/storage.js';
import type { Lifecycle } from '../core/types.js';
import { Backoff } from '../core/backoff.js';
import { systemTimers, type Timers } from '../core/time.js';

export interface BufferedAlertStoreOptions {
  inner: AlertStore;
  log: Logger;
  /** Alerts (saves and final counts) kept at most while the store refuses writes (default 1000). */
  maxAlerts?: number;
  /** Process records kept at most (default 10 000; the latest sighting per process). */
  maxProcesses?: number;
  timers?: Timers;
  /** First retry delay (ms, default 1 s), doubling to `maxRetryMs` (default 30 s). */
  retryMs?: number;
  maxRetryMs?: number;
  /** Called after waiting alerts were written (wake the reporters: their outbox rows exist now). */
  onStored?: () => void;
}

export interface AlertBufferStatus {
  /** Alert writes (new alerts and updates) waiting in memory. */
  buffered: number;
  /** Process records waiting in memory. */
  bufferedProcesses: number;
  /** Alerts given up because the buffer was full, since start. */
  dropped: number;
  /** Why the store refuses writes; undefined while it takes them. */
  failing: string | undefined;
}

type Op = { kind: 'save'; alert: Alert; reporters: readonly string[] } | { kind: 'update'; alert: Alert; reporters: readonly string[] };

export class BufferedAlertStore implements AlertStore, Lifecycle {
  private readonly ops: Op[] = [];
  private readonly processes = new Map<string, ProcessRecord>();
  private readonly maxAlerts: number;
  private readonly maxProcesses: number;
  private readonly timers: Timers;
  private readonly backoff: Backoff;
  private failing: string | undefined;
  private dropped = 0;
  private droppedProcesses = 0;
  private timer: unknown;
  private running = false;

  constructor(private readonly o: BufferedAlertStoreOptions) {
    this.maxAlerts = Math.max(1, o.maxAlerts ?? 1000);
    this.maxProcesses = Math.max(1, o.maxProcesses ?? 10_000);
    this.timers = o.timers ?? systemTimers;
    this.backoff = new Backoff({ initialMs: o.retryMs ?? 1000, maxMs: o.maxRetryMs ?? 30_000, jitter: 0.2 });
  }

  async start(): Promise<void> {
    this.running = true;
    if (this.pending()) this.arm();
  }

  /** One last try to write what waits; what still cannot be written is reported as lost. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending()) this.flush();
    if (this.ops.length > 0) this.o.log.error({ alerts: this.ops.length, reason: this.failing }, 'stopping with alerts that could not be stored; they are lost');
  }

  status(): AlertBufferStatus {
    return { buffered: this.ops.length, bufferedProcesses: this.processes.size, dropped: this.dropped, failing: this.failing };
  }

  saveAlert(alert: Alert, reporters: readonly string[]): void {
    this.submit({ kind: 'save', alert, reporters });
  }

  updateAlert(alert: Alert, reporters: readonly string[]): void {
    // Not stored yet: the waiting save will store this very object, with its latest count, for every reporter.
    if (this.ops.some((op) => op.kind === 'save' && op.alert.id === alert.id)) return;
    this.submit({ kind: 'update', alert, reporters });
  }

  upsertProcesses(records: readonly ProcessRecord[]): void {
    if (records.length === 0) return;
    if (!this.pending()) {
      try {
        this.o.inner.upsertProcesses(records);
        return;
      } catch (e) {
        this.refused(e);
      }
    }
    for (const r of records) this.keepProcess(r);
    this.flush();
  }

  private submit(op: Op): void {
    if (!this.pending()) {
      try {
        this.apply(op);
        return;
      } catch (e) {
        this.refused(e);
      }
    } else {
      this.flush();
      if (!this.pending()) {
        this.submit(op);
        return;
      }
    }
    this.keep(op);
  }

  private keep(op: Op): void {
    // A later count of an alert already waiting replaces the earlier one (same id, same reporters).
    const same = op.kind === 'update' ? this.ops.findIndex((x) => x.kind === 'update' && x.alert.id === op.alert.id) : -1;
    if (same >= 0) {
      const before = this.ops[same];
      this.ops.splice(same, 1);
      op = { ...op, reporters: [...new Set([...before.reporters, ...op.reporters])] };
    }
    this.ops.push(op);
    while (this.ops.length > this.maxAlerts) {
      const lost = this.ops.shift() as Op;
      this.dropped++;
      this.o.log.error({ alert: lost.alert.id, buffered: this.ops.length, dropped: this.dropped }, 'alert buffer full while the database refuses writes: the oldest waiting alert is lost');
    }
    this.arm();
  }

  private keepProcess(r: ProcessRecord): void {
    const had = this.processes.get(r.process.execId);
    this.processes.delete(r.process.execId);
    this.processes.set(r.process.execId, had ? { ...r, firstSeen: Math.min(had.firstSeen, r.firstSeen), lastSeen: Math.max(had.lastSeen, r.lastSeen) } : r);
    while (this.processes.size > this.maxProcesses) {
      this.processes.delete(this.processes.keys().next().value as string);
      this.droppedProcesses++;
    }
    this.arm();
  }

  private apply(op: Op): void {
    if (op.kind === 'save') this.o.inner.saveAlert(op.alert, op.reporters);
    else this.o.inner.updateAlert(op.alert, op.reporters);
  }

  private pending(): boolean {
    return this.ops.length > 0 || this.processes.size > 0;
  }

  private refused(e: unknown): void {
    const reason = e instanceof Error ? e.message : String(e);
    if (this.failing === undefined) {
      this.o.log.error({ reason }, 'cannot store alerts (disk full or database not writable): keeping them in memory until it can');
    }
    this.failing = reason;
  }

  /** Writes what waits, oldest first, until the store refuses again. */
  private flush(): void {
    if (!this.pending()) return;
    let stored = 0;
    try {
      if (this.processes.size > 0) {
        this.o.inner.upsertProcesses([...this.processes.values()]);
        this.processes.clear();
      }
      while (this.ops.length > 0) {
        this.apply(this.ops[0]);
        this.ops.shift();
        stored++;
      }
    } catch (e) {
      this.refused(e);
      this.arm();
      if (stored > 0) this.o.onStored?.();
      return;
    }
    this.o.log.warn({ reason: this.failing, dropped: this.dropped, droppedProcesses: this.droppedProcesses }, 'the database takes writes again: waiting alerts stored');
    this.failing = undefined;
    this.backoff.reset();
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.o.onStored?.();
  }

  private arm(): void {
    if (!this.running || this.timer !== undefined) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.flush();
      if (this.pending()) this.arm();
    }, this.backoff.next());
  }
}
