// A finite source over a byte stream (a recording file or standard input): optionally
// gzip-compressed (detected by its magic bytes), split into lines, delivered as fast as
// possible or paced by the events' own `time` field.
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import type { EventSource, LineSink } from '../core/types.js';
import type { Logger } from '../core/logger.js';
import { LineSplitter } from './lines.js';
import type { Clock, Timers } from '../core/time.js';
import { delay } from '../core/backoff.js';

/** `max` = as fast as possible; a number = that many times the recorded pace. */
export type Speed = 'max' | number;

export function parseSpeed(s: string): Speed {
  if (s === 'max') return 'max';
  if (s === 'recorded') return 1;
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`replay speed "${s}" must be max, recorded or a positive factor such as 10`);
  return n;
}

const TIME_KEY = '"time":"';

/**
 * Wall-clock ms of an event from its top-level `time` (RFC 3339; the last `time` key on a
 * Tetragon line, after any nested one), or undefined when there is none.
 */
export function eventTimeMs(line: string): number | undefined {
  const at = line.lastIndexOf(TIME_KEY);
  if (at === -1) return undefined;
  const from = at + TIME_KEY.length;
  const to = line.indexOf('"', from);
  if (to === -1) return undefined;
  const t = Date.parse(line.slice(from, to));
  return Number.isNaN(t) ? undefined : t;
}

export interface StreamSourceOptions {
  name: string;
  /** Opens the stream; called by start(). Throw a SourceError for a user's mistake. */
  open: () => Promise<Readable>;
  sink: LineSink;
  logger: Logger;
  speed?: Speed;
  clock: Clock;
  timers: Timers;
  maxLine?: number;
  onOversize?: (bytes: number) => void;
}

function isGzip(b: Buffer): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** Yields the stream's bytes, gunzipped if they start with the gzip magic. */
async function* decoded(stream: Readable): AsyncGenerator<Buffer> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  if (first.done === true) return;
  if (!isGzip(first.value)) {
    yield first.value;
    for (let r = await it.next(); r.done !== true; r = await it.next()) yield r.value;
    return;
  }
  async function* raw(): AsyncGenerator<Buffer> {
    yield first.value;
    for (let r = await it.next(); r.done !== true; r = await it.next()) yield r.value;
  }
  const gunzip = createGunzip();
  const input = Readable.from(raw());
  input.on('error', (e) => gunzip.destroy(e));
  input.pipe(gunzip);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } finally {
    input.destroy();
    gunzip.destroy();
  }
}

export class StreamSource implements EventSource {
  readonly name: string;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (e: unknown) => void;
  private stream: Readable | undefined;
  private readonly abort = new AbortController();
  private pumping: Promise<void> | undefined;

  constructor(private readonly o: StreamSourceOptions) {
    this.name = o.name;
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // Whoever awaits `done` sees a failure; nobody awaiting it is not a crash.
    this.done.catch(() => {});
  }

  async start(): Promise<void> {
    if (this.abort.signal.aborted) return;
    this.stream = await this.o.open();
    this.pumping = this.pump(this.stream).then(
      () => this.resolveDone(),
      (e: unknown) => {
        if (this.abort.signal.aborted) this.resolveDone();
        else this.rejectDone(e);
      },
    );
  }

  async stop(): Promise<void> {
    if (!this.abort.signal.aborted) {
      this.abort.abort();
      this.stream?.destroy();
    }
    if (this.pumping === undefined) this.resolveDone();
    await this.pumping;
  }

  private async pump(stream: Readable): Promise<void> {
    const speed = this.o.speed ?? 'max';
    const paced: string[] = [];
    const splitter = new LineSplitter(speed === 'max' ? this.o.sink : { line: (l) => paced.push(l) }, {
      maxLine: this.o.maxLine,
      onOversize: this.o.onOversize,
    });
    const pace = speed === 'max' ? undefined : new Pacer(speed, this.o.clock, this.o.timers, this.abort.signal);
    const deliver = async (): Promise<void> => {
      if (pace === undefined) return;
      for (let i = 0; i < paced.length; i++) {
        if (!(await pace.wait(paced[i]))) return;
        this.o.sink.line(paced[i]);
      }
      paced.length = 0;
    };
    for await (const chunk of decoded(stream)) {
      if (this.abort.signal.aborted) return;
      splitter.push(chunk);
      await deliver();
    }
    if (this.abort.signal.aborted) return;
    splitter.end();
    await deliver();
    this.o.logger.debug({ source: this.name }, 'source exhausted');
  }
}

/** Holds each line back until its recorded time, scaled by `factor`, has come. */
export class Pacer {
  private firstEvent: number | undefined;
  private firstMono = 0;

  constructor(
    private readonly factor: number,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly signal: AbortSignal,
  ) {}

  /** Resolves true when `line` is due, false when stopped meanwhile. */
  async wait(line: string): Promise<boolean> {
    if (this.signal.aborted) return false;
    const t = eventTimeMs(line);
    if (t === undefined) return true;
    if (this.firstEvent === undefined) {
      this.firstEvent = t;
      // Monotonic: setting the system clock during a replay must not stall or rush it.
      this.firstMono = this.clock.monotonic();
      return true;
    }
    const due = this.firstMono + (t - this.firstEvent) / this.factor;
    const wait = due - this.clock.monotonic();
    if (wait < 1) return true;
    return delay(wait, this.timers, this.signal);
  }
}
