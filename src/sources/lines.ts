// Splits a byte stream into lines for a LineSink: whole lines, in order, without the
// trailing "\n" or "\r\n". On the hot path a line that lies inside one chunk is handed on in
// place: as bytes when the sink takes them (the parser decodes only what it needs), else as
// one string decoded straight from the chunk. Only a line split across chunks is copied.
import type { LineSink } from '../core/types.js';

export const DEFAULT_MAX_LINE = 1024 * 1024;

const NL = 0x0a;
const CR = 0x0d;

export interface LineSplitterOptions {
  /** Longest line delivered, in bytes (without the newline). Longer lines are skipped. */
  maxLine?: number;
  /** Called once per skipped line with its length in bytes (at least `maxLine + 1`). */
  onOversize?: (bytes: number) => void;
}

export class LineSplitter {
  private readonly maxLine: number;
  private readonly onOversize: (bytes: number) => void;
  /** Bytes of an unfinished line carried over from earlier chunks (a private copy). */
  private pending: Buffer = Buffer.alloc(0);
  private pendingLength = 0;
  /** Bytes of the current line being skipped because it is too long (0 = not skipping). */
  private skipping = 0;
  private readonly takesBytes: boolean;

  constructor(
    private readonly sink: LineSink,
    options: LineSplitterOptions = {},
  ) {
    this.maxLine = options.maxLine ?? DEFAULT_MAX_LINE;
    this.onOversize = options.onOversize ?? (() => {});
    this.takesBytes = typeof sink.bytes === 'function';
  }

  /** Feeds a chunk. The splitter never keeps a reference to `chunk`: callers may reuse it. */
  push(chunk: Buffer, start = 0, end = chunk.length): void {
    let from = start;
    while (from < end) {
      const nl = chunk.indexOf(NL, from);
      if (nl === -1 || nl >= end) {
        this.carry(chunk, from, end);
        return;
      }
      if (this.skipping > 0) {
        this.endSkip(nl - from);
      } else if (this.pendingLength > 0) {
        this.carry(chunk, from, nl);
        if (this.skipping > 0) this.endSkip(0);
        else this.emitPending();
      } else {
        this.emit(chunk, from, nl);
      }
      from = nl + 1;
    }
  }

  /** End of input: delivers a final line that had no newline. */
  end(): void {
    if (this.skipping > 0) this.endSkip(0);
    else if (this.pendingLength > 0) this.emitPending();
  }

  /** Drops an unfinished line (e.g. the file it came from was truncated). Returns its length. */
  discard(): number {
    const n = this.pendingLength + this.skipping;
    this.pendingLength = 0;
    this.skipping = 0;
    return n;
  }

  /** Bytes of an unfinished line held back. */
  get buffered(): number {
    return this.pendingLength + this.skipping;
  }

  private emit(buf: Buffer, from: number, to: number): void {
    if (to > from && buf[to - 1] === CR) to--;
    const n = to - from;
    if (n === 0) return;
    if (n > this.maxLine) {
      this.onOversize(n);
      return;
    }
    if (this.takesBytes) (this.sink as Required<LineSink>).bytes(buf, from, to);
    else this.sink.line(buf.toString('utf8', from, to));
  }

  private emitPending(): void {
    const n = this.pendingLength;
    this.pendingLength = 0;
    this.emit(this.pending, 0, n);
    // Do not keep a large buffer alive after one long line.
    if (this.pending.length > 64 * 1024) this.pending = Buffer.alloc(0);
  }

  private carry(chunk: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n === 0) return;
    if (this.skipping > 0) {
      this.skipping += n;
      return;
    }
    // +1: a trailing "\r" may still belong to a line of exactly maxLine bytes.
    if (this.pendingLength + n > this.maxLine + 1) {
      this.skipping = this.pendingLength + n;
      this.pendingLength = 0;
      return;
    }
    const need = this.pendingLength + n;
    if (need > this.pending.length) {
      const grown = Buffer.allocUnsafe(Math.min(Math.max(need, this.pending.length * 2, 256), this.maxLine + 1));
      this.pending.copy(grown, 0, 0, this.pendingLength);
      this.pending = grown;
    }
    chunk.copy(this.pending, this.pendingLength, from, to);
    this.pendingLength = need;
  }

  private endSkip(extra: number): void {
    const n = this.skipping + extra;
    this.skipping = 0;
    this.onOversize(n);
  }
}
