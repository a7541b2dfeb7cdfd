// Windows into ONNX Runtime's input: one zero-padded int64 [batch, window] tensor, built in
// reused buffers, and the profiles as int64 [batch].
import { endianness } from 'node:os';

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Packs windows into one zero-padded int64 [n, width] buffer (`into` when given, which must
 * hold at least n × width values; it is cleared first). Windows longer than `width` keep their
 * last `width` tokens. Tokens are small non-negative ints, so on little-endian machines the low
 * 32-bit half of each int64 is written directly (no BigInt per token).
 */
export function packWindows(windows: readonly Int32Array[], width: number, into?: ArrayBuffer): BigInt64Array {
  const size = windows.length * width;
  let out: BigInt64Array;
  if (into === undefined) out = new BigInt64Array(size);
  else {
    if (into.byteLength < size * 8) throw new RangeError(`packWindows: the buffer holds ${into.byteLength >> 3} values, ${size} needed`);
    out = new BigInt64Array(into, 0, size);
  }
  if (LITTLE_ENDIAN) {
    const halves = new Int32Array(out.buffer, 0, size * 2);
    if (into !== undefined) halves.fill(0);
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i];
      const from = w.length > width ? w.length - width : 0;
      let o = i * width * 2;
      for (let j = from; j < w.length; j++, o += 2) halves[o] = w[j];
    }
  } else {
    if (into !== undefined) out.fill(0n);
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i];
      const from = w.length > width ? w.length - width : 0;
      for (let j = from; j < w.length; j++) out[i * width + j - from] = BigInt(w[j]);
    }
  }
  return out;
}

/**
 * Reuses the packed input buffers. A batch of 64 windows of 1024 is 512 KB; allocating one per
 * batch left tens of megabytes of dead buffers resident between collections (a worker thread
 * collects its transferred buffers late), so buffers go back here once their batch is scored.
 */
export class PackBuffers {
  private readonly free: ArrayBuffer[] = [];
  private rows = 0;

  constructor(private readonly width: number, private readonly keep = 4) {}

  /** A buffer for at least `n` windows. */
  take(n: number): ArrayBuffer {
    if (n > this.rows) {
      // A larger batch than any before: older, smaller buffers are dropped.
      this.rows = n;
      this.free.length = 0;
    }
    return this.free.pop() ?? new ArrayBuffer(this.rows * this.width * 8);
  }

  /** Hands a buffer back (ignored if it is too small now, detached, or enough are kept). */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength >= this.rows * this.width * 8 && this.free.length < this.keep) this.free.push(buffer);
  }

  /** Buffers waiting to be reused. */
  get spare(): number {
    return this.free.length;
  }
}

/** The profile of each window as int64 [n] (0 where `profiles` is absent). */
export function packProfiles(n: number, profiles: Int32Array | undefined): BigInt64Array {
  const out = new BigInt64Array(n);
  if (profiles !== undefined) for (let i = 0; i < n; i++) out[i] = BigInt(profiles[i] ?? 0);
  return out;
}
