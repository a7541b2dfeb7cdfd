// Batches ingested records into store writes. Each record's promise resolves once its batch
// is committed, and only then does the MQTT side acknowledge the message (PUBACK): a hub
// that dies loses nothing the broker will not send again. While the database is down the
// batch is retried with capped backoff and nothing is acknowledged, so the broker holds the
// rest of the stream. At most `concurrency` writes at a time (default 2, so one batch commits
// while the next is sent); records that arrive meanwhile form the next batch.
import type { Logger } from '../../core/logger.js';
import type { Lifecycle } from '../../core/types.js';
import { Backoff, delay, type BackoffOptions } from '../../core/backoff.js';
import { systemClock, systemTimers, type Clock, type Timers } from '../../core/time.js';
import type { IngestRecord, WriteSummary } from '../store/records.js';

export interface RecordSink {
  write(records: readonly IngestRecord[]): Promise<WriteSummary>;
}

export interface IngestWriterOptions {
  store: RecordSink;
  log: Logger;
  /** Most records in one write (default 500). */
  maxBatch?: number;
  /** Writes in progress at once (default 2). */
  concurrency?: number;
  /** Retry delays while the database fails (default 200 ms doubling to 30 s). */
  backoff?: BackoffOptions;
  /** After each committed batch: its records, what the store did, and how long the write took (ms). */
  onWritten?: (records: readonly IngestRecord[], summary: WriteSummary, ms: number) => void;
  /** After each failed attempt. */
  onFailed?: (error: Error) => void;
  clock?: Clock;
  timers?: Timers;
}

/** The hub is stopping: the record was not stored (and its message not acknowledged). */
export class WriterStoppedError extends Error {
  constructor() {
    super('the hub is stopping; the message stays with the broker');
    this.name = 'WriterStoppedError';
  }
}

interface Pending {
  record: IngestRecord;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class IngestWriter implements Lifecycle {
  private queue: Pending[] = [];
  private readonly flushing = new Set<Promise<void>>();
  private scheduled = false;
  private stopping = false;
  private readonly abort = new AbortController();
  private readonly backoff: Backoff;
  private readonly timers: Timers;
  private readonly clock: Clock;
  private readonly maxBatch: number;
  private readonly concurrency: number;

  constructor(private readonly o: IngestWriterOptions) {
    this.timers = o.timers ?? systemTimers;
    this.clock = o.clock ?? systemClock;
    this.maxBatch = o.maxBatch ?? 500;
    this.concurrency = o.concurrency ?? 2;
    this.backoff = new Backoff({ initialMs: 200, maxMs: 30_000, ...o.backoff });
  }

  async start(): Promise<void> {}

  /** Records waiting for a write (not counting the one being written). */
  get waiting(): number {
    return this.queue.length;
  }

  /** Resolves once `record` is committed. */
  submit(record: IngestRecord): Promise<void> {
    if (this.stopping) return Promise.reject(new WriterStoppedError());
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing.size >= this.concurrency) return;
    this.scheduled = true;
    // After the current burst of messages, so one write takes all of them.
    this.timers.immediate(() => {
      this.scheduled = false;
      this.startWrite();
    });
  }

  /** Starts writing what is queued (when a write slot is free); a finished write starts the next at once. */
  private startWrite(): void {
    if (this.queue.length === 0 || this.stopping || this.flushing.size >= this.concurrency) return;
    const f: Promise<void> = this.flush(this.queue.splice(0, this.maxBatch)).finally(() => {
      this.flushing.delete(f);
      this.startWrite();
    });
    this.flushing.add(f);
  }

  /** Writes one batch, retrying until it is committed or the writer stops. */
  private async flush(batch: Pending[]): Promise<void> {
    const records = batch.map((p) => p.record);
    for (;;) {
      const t0 = this.clock.monotonic();
      try {
        const summary = await this.o.store.write(records);
        this.backoff.reset();
        this.o.onWritten?.(records, summary, this.clock.monotonic() - t0);
        for (const p of batch) p.resolve();
        return;
      } catch (e) {
        const err = e as Error;
        this.o.onFailed?.(err);
        const wait = this.backoff.next();
        this.o.log.error({ reason: err.message, records: records.length, retryInMs: wait, attempt: this.backoff.attempts }, 'cannot store ingested messages; will retry (they stay unacknowledged)');
        if (!(await delay(wait, this.timers, this.abort.signal))) {
          for (const p of batch) p.reject(new WriterStoppedError());
          return;
        }
      }
    }
  }

  /** Waits for the writes in progress; what was not written is left to the broker. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await Promise.all(this.flushing);
    const left = this.queue;
    this.queue = [];
    for (const p of left) p.reject(new WriterStoppedError());
  }
}
