// Tetragon JSON lines → syscall tokens, exec and exit events for an EventHandler.
//
// Hot path. A raw_syscalls/sys_enter tracepoint line is read without JSON.parse, and without
// decoding it to a string: sources hand the parser the line's bytes (`bytes()`), and the few
// fields needed (exec_id, pid, the syscall argument) are found where Tetragon's encoder puts
// them, with byte comparisons (4 bytes a step) checking the structure around each one. Only
// the exec_id is turned into a string, and only when it differs from the previous line's;
// for a line of the same process as the previous one, the args are looked for first where
// that line had them (the process and parent objects of one process repeat byte for byte).
// The whole line is decoded when a handler asks for it (the first call of a process, for its
// details) and for every line the fast path does not take. `line()` takes a string (sources
// that build lines, tests) and runs the same fast path on its UTF-8 bytes (lines over 64 KiB
// go to the slow path). Every byte-level step costs about what the string-level one did; the
// gain is the UTF-8 decode of every line (docs/benchmarks.md has the figures).
// The fast path accepts a line only when all of this holds:
//   - it starts with `{"process_tracepoint":{"process":{` and the process begins with a
//     well-formed `"exec_id":"…"` (printable ASCII, no escapes, so its text is its value)
//     and/or `"pid":<digits>`;
//   - the first `"args":[` after the pid is preceded by `},"subsys":"raw_syscalls","event":"sys_enter",`
//     (a `}` closing the process or parent object) and holds a well-formed `syscall_id`
//     (`{"id":N,"abi":"…"}`, id omitted when 0, abi one we have a table for), `long_arg` or
//     `size_arg` (quoted or plain digits), closed by `}]` and followed by `,` or `}`;
//   - the line ends with `,"time":"<RFC 3339 characters>"}` (so the outer object is closed:
//     a line cut short anywhere fails here);
//   - `{"process_` does not occur again (two half-written lines joined into one fail here).
// A key that occurs twice in the process object (never written by Tetragon) is read at its
// first place, where JSON.parse keeps the last. A space after commas (some protobuf JSON
// encoders add one) is accepted. Anything else goes
// to the slow path, JSON.parse, which decides exactly: an event, an ignored type, or malformed.
// What the fast path does not check: the bytes it skips inside the process and parent objects
// and between `args` and `time`. Damage confined to those (not produced by truncation or by
// joined lines, which the checks above catch) is not detected; the fields read are exact.
// Full validation would cost a pass over every byte (about what JSON.parse costs), which is
// several times the budget of this path. Exec and exit lines always go through JSON.parse.
// Lines of event types we do not use (kprobes, rate-limit notices, ...) are recognised without
// JSON.parse by their prefix, a closed outer object and no second event start: damage inside
// such a line counts it as ignored rather than malformed (test/unit/parser-fuzz.test.ts).
import type { Abi, EventHandler, LineSink, ProcessInfo } from '../core/types.js';
import type { Counters } from '../core/counters.js';
import { RateLimitedLog, type Logger } from '../core/logger.js';
import { NOT_A_SYSCALL, UNKNOWN_TOKEN, type Tokenizer } from '../syscalls/tokenizer.js';
import { interpret, processInfoFromLine, textLine, type ParsedEvent, type TextEventLine } from './event-object.js';
import { nativeAbiOf } from '../syscalls/abi.js';
import type { Clock } from '../core/time.js';

export interface ParserOptions {
  handler: EventHandler;
  tokenizer: Tokenizer;
  counters: Counters;
  log: Logger;
  /** ABI of `long_arg`/`size_arg` numbers and of a `syscall_id` without abi. Default: this machine's. */
  nativeAbi?: Abi;
  /** Clock for log rate limiting (tests). */
  clock?: Clock;
}

export { nativeAbiOf };

/** An ASCII constant to compare bytes against, also as little-endian 32-bit words (4 bytes a step). */
interface Pattern {
  length: number;
  bytes: Uint8Array;
  words: Uint32Array;
}

function ascii(s: string): Pattern {
  const bytes = Uint8Array.from(s, (c) => c.charCodeAt(0));
  const words = new Uint32Array(bytes.length >> 2);
  const v = new DataView(bytes.buffer);
  for (let k = 0; k < words.length; k++) words[k] = v.getUint32(k * 4, true);
  return { length: bytes.length, bytes, words };
}

const TP_PREFIX_TEXT = '{"process_tracepoint":{"process":{';
const TP_PREFIX = ascii(TP_PREFIX_TEXT);
const PID_KEY = ascii('"pid":');
/** The prefix and `"exec_id":"` at once: the usual start of a line. */
const TP_EXEC_ID = ascii(`${TP_PREFIX_TEXT}"exec_id":"`);
/** Where exec_id's value starts when it is the first field of the process. */
const EXEC_ID_AT = TP_EXEC_ID.length;
/** Longest exec_id remembered as the previous line's (Tetragon's are about 40 bytes). */
const MAX_KEY = 256;
// What must come before the `[` of args, matched backwards; a space may follow each comma.
const ARGS_KEY_TEXT = '"args":';
const EVENT_FIELD_TEXT = '"event":"sys_enter",';
const SUBSYS_FIELD_TEXT = '"subsys":"raw_syscalls",';
const ARGS_KEY = ascii(ARGS_KEY_TEXT);
const EVENT_FIELD = ascii(EVENT_FIELD_TEXT);
const SUBSYS_FIELD = ascii(SUBSYS_FIELD_TEXT);
/** All of the above without spaces, after the `},`: the usual case, compared in one go. */
const BEFORE_ARGS = ascii(`},${SUBSYS_FIELD_TEXT}${EVENT_FIELD_TEXT}${ARGS_KEY_TEXT}`);
const SYSCALL_ID = ascii('syscall_id":{');
const ID_KEY = ascii('"id":');
const ABI_KEY = ascii('"abi":"');
const LONG_ARG = ascii('long_arg":');
const SIZE_ARG = ascii('size_arg":');
const TIME_KEY = ascii('"time":');
/** Start of an event; a second one in a line means two half-written lines were joined. */
const EVENT_START = '{"process_';
const EVENT_START_BYTES = Buffer.from(EVENT_START, 'latin1');
const ABI = '"abi":"';
const EXEC_PREFIX = '{"process_exec":';
const EXIT_PREFIX = '{"process_exit":';

// Prefixes of event types we do not use; ignored after a structural check (see ignoredFast).
const IGNORED_PREFIXES = ['{"process_kprobe":{', '{"process_uprobe":{', '{"process_lsm":{', '{"process_throttle":{', '{"rate_limit_info":{', '{"process_usdt":{', '{"process_loader":{'];

const C_QUOTE = 34;
const C_COMMA = 44;
const C_COLON = 58;
const C_SPACE = 32;
const C_0 = 48;
const C_9 = 57;
const C_BACKSLASH = 92;
const C_BRACKET_OPEN = 91;
const C_BRACKET_CLOSE = 93;
const C_BRACE_OPEN = 123;
const C_BRACE_CLOSE = 125;
const C_T = 116;

/** Longest string line run through the byte fast path by `line()`; longer ones take the slow path. */
const MAX_STRING_FAST = 64 * 1024;

/** True when `pat` occurs in `b` (seen through `v`) at `at`. */
function isAt(v: DataView, b: Uint8Array, at: number, pat: Pattern): boolean {
  if (at < 0 || at + pat.length > b.length) return false;
  const w = pat.words;
  let o = at;
  for (let k = 0; k < w.length; k++, o += 4) if (v.getUint32(o, true) !== w[k]) return false;
  const bytes = pat.bytes;
  for (let k = w.length << 2; k < bytes.length; k++) if (b[at + k] !== bytes[k]) return false;
  return true;
}

/** If `pat` ends right before `end` (not before `min`), where it starts; else -1. */
function before(v: DataView, b: Uint8Array, end: number, pat: Pattern, min: number): number {
  const at = end - pat.length;
  return at >= min && isAt(v, b, at, pat) ? at : -1;
}

/** Bytes of an RFC 3339 time: digits, T, Z, :, ., +, -. */
const TIME_CHAR = new Uint8Array(256);
for (const c of '0123456789TZ:.+-') TIME_CHAR[c.charCodeAt(0)] = 1;

/** The line behind the current syscall, decoded only if a handler asks for it. */
class CurrentLine implements TextEventLine {
  buf: Buffer = EMPTY;
  from = 0;
  to = 0;
  str: string | undefined;

  text(): string {
    return (this.str ??= this.buf.toString('utf8', this.from, this.to));
  }

  process(): ProcessInfo | undefined {
    return processInfoFromLine(this.text());
  }
}

export class Parser implements LineSink {
  private readonly handler: EventHandler;
  private readonly tokenizer: Tokenizer;
  private readonly counters: Counters;
  private readonly nativeAbi: Abi;
  private readonly nativeTable: Int32Array;
  private readonly x64: Int32Array;
  private readonly arm64: Int32Array;
  private readonly i386: Int32Array;
  private readonly arm32: Int32Array;
  private readonly badLines: RateLimitedLog;
  private readonly unknownLog: RateLimitedLog;
  private readonly current = new CurrentLine();
  /** The previous line's exec_id, as bytes and as the string handed on. */
  private readonly keyBytes = new Uint8Array(MAX_KEY);
  private readonly keyView = new DataView(this.keyBytes.buffer);
  private keyLength = 0;
  private key = '';
  /** Where the previous line's args began, from its start. */
  private argsOffset = 0;
  /** A view of the last buffer read (made again when the buffer changes; holds one chunk at most). */
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private viewOf: Buffer = EMPTY;
  /** Where `line()` encodes a string line for the fast path. */
  private scratch = Buffer.alloc(4096);

  constructor(opts: ParserOptions) {
    this.handler = opts.handler;
    this.tokenizer = opts.tokenizer;
    this.counters = opts.counters;
    this.nativeAbi = opts.nativeAbi ?? nativeAbiOf();
    this.nativeTable = opts.tokenizer.table(this.nativeAbi);
    this.x64 = opts.tokenizer.table('x64');
    this.arm64 = opts.tokenizer.table('arm64');
    this.i386 = opts.tokenizer.table('i386');
    this.arm32 = opts.tokenizer.table('arm32');
    const log = opts.log.child({ module: 'parser' });
    this.badLines = new RateLimitedLog(log, 10, 60_000, opts.clock);
    this.unknownLog = new RateLimitedLog(log, 10, 60_000, opts.clock);
  }

  /** One event line (no trailing newline). Never throws on bad input. */
  line(line: string): void {
    this.counters.events++;
    // `{"process_t…`: worth trying the fast path (which checks the whole prefix itself).
    if (line.charCodeAt(10) === C_T && line.charCodeAt(0) === C_BRACE_OPEN && line.length <= MAX_STRING_FAST) {
      if (line.length * 3 > this.scratch.length) this.scratch = Buffer.alloc(Math.max(line.length * 3, this.scratch.length * 2));
      const n = this.scratch.write(line, 0, 'utf8');
      if (this.tracepointFast(this.scratch, 0, n, line)) return;
    }
    this.other(line);
  }

  /**
   * One event line as the bytes `buf[from, to)` (no trailing newline); `buf` is only read
   * during the call. Never throws on bad input.
   */
  bytes(buf: Buffer, from: number, to: number): void {
    this.counters.events++;
    if (buf[from + 10] === C_T && buf[from] === C_BRACE_OPEN && this.tracepointFast(buf, from, to, undefined)) return;
    this.other(buf.toString('utf8', from, to));
  }

  /** A line the fast path did not take. */
  private other(line: string): void {
    if (!line.startsWith(EXEC_PREFIX) && !line.startsWith(EXIT_PREFIX) && this.ignoredFast(line)) {
      this.counters.ignored++;
      return;
    }
    this.slow(line);
  }

  /** Event types we do not use: prefix, closed outer object, no second event in the line. */
  private ignoredFast(line: string): boolean {
    let known = false;
    for (const p of IGNORED_PREFIXES) {
      if (line.startsWith(p)) {
        known = true;
        break;
      }
    }
    if (!known) return false;
    let e = line.length - 1;
    while (e > 0 && line.charCodeAt(e) <= C_SPACE) e--;
    return line.charCodeAt(e) === C_BRACE_CLOSE && line.charCodeAt(e - 1) === C_QUOTE && line.indexOf(EVENT_START, 1) < 0;
  }

  /**
   * The fast path (see the header) over `b[from, to)`; `text` is the line as a string when
   * the caller has it. Returns false to hand the line to the slow path.
   */
  private tracepointFast(b: Buffer, from: number, to: number, text: string | undefined): boolean {
    let v = this.view;
    if (b !== this.viewOf) {
      v = this.view = new DataView(b.buffer, b.byteOffset, b.length);
      this.viewOf = b;
    }
    if (to - from < EXEC_ID_AT) return false;
    // The process starts with "exec_id":"…", (optional) then "pid":<digits>.
    let p: number;
    let key: string | undefined;
    let sameProcess = false;
    if (!isAt(v, b, from, TP_EXEC_ID)) {
      if (!isAt(v, b, from, TP_PREFIX)) return false;
      p = from + TP_PREFIX.length;
    } else {
      p = from + EXEC_ID_AT;
      const keyStart = p;
      const n = this.keyLength;
      if (n > 0 && keyStart + n < to && b[keyStart + n] === C_QUOTE && this.sameKey(v, b, keyStart)) {
        // The previous line's exec_id (already checked): most lines come in bursts of one thread.
        key = this.key;
        sameProcess = true;
        p += n;
      } else {
        for (let c = b[p]; p < to && c !== C_QUOTE; c = b[++p]) {
          if (c < C_SPACE || c > 0x7e || c === C_BACKSLASH) return false;
        }
        if (p >= to || p === keyStart) return false;
        key = this.remember(b, keyStart, p);
      }
      if (b[p + 1] !== C_COMMA) return false;
      p += b[p + 2] === C_SPACE ? 3 : 2;
    }
    if (!isAt(v, b, p, PID_KEY)) return false;
    p += PID_KEY.length;
    const pidStart = p;
    const pidEnd = jsonDigits(b, pidStart, to);
    if (pidEnd < 0 || (b[pidEnd] !== C_COMMA && b[pidEnd] !== C_BRACE_CLOSE)) return false;

    // `"args":[` is the first `[` after the pid that has the right fields before it. A line of
    // the same process as the previous one usually has it at the same place: tried first. (In
    // a line that is one event, those fields occur once, so the two ways find the same `[`.)
    let a = sameProcess ? from + this.argsOffset : -1;
    let argsEnd = a > pidEnd && a < to && b[a] === C_BRACKET_OPEN ? argsAt(v, b, a, to, pidEnd) : -1;
    if (argsEnd < 0) {
      a = b.indexOf(C_BRACKET_OPEN, pidEnd);
      for (;;) {
        if (a < 0 || a >= to) return false;
        argsEnd = argsAt(v, b, a, to, pidEnd);
        if (argsEnd >= 0) break;
        if (b[a - 1] === C_COLON && b[a - 2] === C_QUOTE && b[a - 3] === 115 /* s */) return false;
        a = b.indexOf(C_BRACKET_OPEN, a + 1);
      }
    }

    // The outer object is closed by `,"time":"…"}` at the very end.
    let e = to - 1;
    while (e > argsEnd && b[e] <= C_SPACE) e--;
    if (b[e] !== C_BRACE_CLOSE || b[e - 1] !== C_QUOTE) return false;
    let t = e - 2;
    while (t > argsEnd && TIME_CHAR[b[t]] === 1) t--;
    if (e - t < 3 || b[t] !== C_QUOTE) return false;
    let k = before(v, b, t, TIME_KEY, argsEnd);
    if (k < 0) return false;
    if (b[k - 1] === C_SPACE) k--;
    if (b[k - 1] !== C_COMMA) return false;
    // A second event start means two half-written lines were joined.
    const again = b.indexOf(EVENT_START_BYTES, from + EXEC_ID_AT);
    if (again >= 0 && again < to) return false;
    this.argsOffset = a - from;

    // The structure is known to be right: read the number and the ABI.
    p = a + 3;
    let table = this.nativeTable;
    let id = 0;
    if (b[p + 1] === 121 /* y: syscall_id */) {
      p += SYSCALL_ID.length;
      if (b[p + 1] === 105 /* i: "id" */) {
        p += ID_KEY.length;
        for (let c = b[p]; c >= C_0 && c <= C_9; c = b[++p]) id = id * 10 + (c - C_0);
        if (b[p] === C_COMMA) p += b[p + 1] === C_SPACE ? 2 : 1;
      }
      if (b[p] === C_QUOTE) {
        // "abi":" then x64 | arm64 | i386 | arm32
        const c = b[p + 7];
        table = c === 120 ? this.x64 : c === 105 ? this.i386 : b[p + 10] === 54 ? this.arm64 : this.arm32;
      }
    } else {
      p += LONG_ARG.length; // long_arg": or size_arg":
      if (b[p] === C_QUOTE) p++;
      for (let c = b[p]; c >= C_0 && c <= C_9; c = b[++p]) id = id * 10 + (c - C_0);
    }

    if (key === undefined) {
      let pid = 0;
      for (let d = pidStart; d < pidEnd; d++) pid = pid * 10 + (b[d] - C_0);
      key = `pid:${pid}`;
    }
    const cur = this.current;
    cur.buf = b;
    cur.from = from;
    cur.to = to;
    cur.str = text;
    try {
      this.deliver(key, id < table.length ? table[id] : NOT_A_SYSCALL, id, cur);
    } finally {
      // The line is valid only during the call: no handler may read it later.
      cur.buf = EMPTY;
      cur.str = undefined;
    }
    return true;
  }

  /** True when the bytes at `at` are the previous exec_id's. */
  private sameKey(v: DataView, b: Uint8Array, at: number): boolean {
    const n = this.keyLength;
    const kv = this.keyView;
    let k = 0;
    for (; k + 4 <= n; k += 4) if (v.getUint32(at + k, true) !== kv.getUint32(k, true)) return false;
    const kb = this.keyBytes;
    for (; k < n; k++) if (b[at + k] !== kb[k]) return false;
    return true;
  }

  /** The exec_id `b[start, end)` as a string, remembered for the next line. */
  private remember(b: Buffer, start: number, end: number): string {
    const key = b.toString('latin1', start, end);
    if (end - start <= MAX_KEY) {
      this.keyBytes.set(b.subarray(start, end));
      this.keyLength = end - start;
      this.key = key;
    } else {
      this.keyLength = 0;
    }
    return key;
  }

  private deliver(key: string, token: number, id: number, line: TextEventLine, abiName?: string): void {
    if (token === NOT_A_SYSCALL) {
      this.counters.unknownSyscalls++;
      this.unknownLog.warn({ id, abi: abiName ?? this.abiNameOf(line.text()) }, 'syscall number not in the ABI table; counted as unknown');
      token = UNKNOWN_TOKEN;
    }
    this.counters.syscalls++;
    this.handler.syscall(key, token, line);
  }

  private abiNameOf(line: string): string {
    const i = line.indexOf(ABI);
    return i < 0 ? this.nativeAbi : line.slice(i + ABI.length, line.indexOf('"', i + ABI.length));
  }

  private slow(line: string): void {
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      const reason = line.trim() === '' ? 'empty line' : `not JSON (${e instanceof Error ? e.message : String(e)})`;
      this.malformed(reason, line);
      return;
    }
    this.apply(interpret(obj, this.nativeAbi), line);
  }

  private apply(ev: ParsedEvent, line: string): void {
    switch (ev.kind) {
      case 'syscall': {
        const token = ev.abi === undefined ? NOT_A_SYSCALL : this.tokenizer.lookup(ev.abi, ev.id);
        this.deliver(ev.key, token, ev.id, textLine(line), ev.abiName);
        return;
      }
      case 'exec':
        this.handler.exec(ev.process);
        return;
      case 'exit':
        this.handler.exit(ev.key);
        return;
      case 'ignored':
        this.counters.ignored++;
        return;
      case 'malformed':
        this.malformed(ev.reason, line);
        return;
    }
  }

  private malformed(reason: string, line: string): void {
    // Every line was counted as an event on entry (one increment on the hot path); a line
    // that is not an event moves to `malformed`.
    this.counters.events--;
    this.counters.malformed++;
    this.badLines.warn({ reason, length: line.length, start: line.slice(0, 160) }, 'skipped a bad event line');
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * If the `[` at `a` opens a well-formed sys_enter `args` (see the header), the index just
 * after its closing `]`; else -1. `min` bounds the look back.
 */
function argsAt(v: DataView, b: Uint8Array, a: number, to: number, min: number): number {
  // Backwards: },␣?"subsys":"raw_syscalls",␣?"event":"sys_enter",␣?"args":[
  if (before(v, b, a, BEFORE_ARGS, min) < 0) {
    let k = before(v, b, a, ARGS_KEY, min);
    if (k < 0) return -1;
    if (b[k - 1] === C_SPACE) k--;
    k = before(v, b, k, EVENT_FIELD, min);
    if (k < 0) return -1;
    if (b[k - 1] === C_SPACE) k--;
    k = before(v, b, k, SUBSYS_FIELD, min);
    if (k < 0 || b[k - 1] !== C_COMMA || b[k - 2] !== C_BRACE_CLOSE) {
      if (k < 0 || b[k - 1] !== C_SPACE || b[k - 2] !== C_COMMA || b[k - 3] !== C_BRACE_CLOSE) return -1;
    }
  }
  // Forwards: [{"syscall_id":{…}}] or [{"long_arg":N}] / [{"size_arg":"N"}], then , or }.
  let p = a + 1;
  if (b[p] !== C_BRACE_OPEN || b[p + 1] !== C_QUOTE) return -1;
  p += 2;
  if (isAt(v, b, p, SYSCALL_ID)) {
    p += SYSCALL_ID.length;
    if (isAt(v, b, p, ID_KEY)) {
      p = jsonDigits(b, p + ID_KEY.length, to);
      if (p < 0) return -1;
      if (b[p] === C_COMMA) {
        const q = b[p + 1] === C_SPACE ? p + 2 : p + 1;
        if (!isAt(v, b, q, ABI_KEY)) return -1;
        p = q;
      } else if (b[p] !== C_BRACE_CLOSE) {
        return -1; // `{"id":1"abi":…}`: a comma is missing
      }
    }
    if (isAt(v, b, p, ABI_KEY)) {
      p += ABI_KEY.length;
      const n = abiLength(v, b, p);
      if (n < 0) return -1;
      p += n;
    }
    if (b[p] !== C_BRACE_CLOSE) return -1;
    p++;
  } else if (isAt(v, b, p, LONG_ARG) || isAt(v, b, p, SIZE_ARG)) {
    p += LONG_ARG.length;
    if (b[p] === C_QUOTE) {
      p = digits(b, p + 1, to);
      if (p < 0 || b[p] !== C_QUOTE) return -1;
      p++;
    } else {
      p = jsonDigits(b, p, to);
      if (p < 0) return -1;
    }
  } else {
    return -1;
  }
  if (b[p] !== C_BRACE_CLOSE || b[p + 1] !== C_BRACKET_CLOSE) return -1;
  p += 2;
  return p < to && (b[p] === C_COMMA || b[p] === C_BRACE_CLOSE) ? p : -1;
}


/** `b[p…]` holds 1 to 10 digits: the index after them; else -1. */
function digits(b: Uint8Array, p: number, to: number): number {
  const start = p;
  while (p < to && b[p] >= C_0 && b[p] <= C_9) p++;
  const n = p - start;
  // More than 10 digits: the 11th is not what may follow a number.
  return n >= 1 && n <= 10 ? p : -1;
}

/** `b[p…]` holds a JSON number of 1 to 10 digits (no leading zero: `07` is not JSON): the index after it; else -1. */
function jsonDigits(b: Uint8Array, p: number, to: number): number {
  const end = digits(b, p, to);
  return end > p + 1 && b[p] === C_0 ? -1 : end;
}

/** Length of `x64"`, `arm64"`, `i386"` or `arm32"` at `p`; else -1. */
function abiLength(v: DataView, b: Uint8Array, p: number): number {
  for (const name of ABI_NAMES) if (isAt(v, b, p, name)) return name.length;
  return -1;
}
const ABI_NAMES = ['x64"', 'arm64"', 'i386"', 'arm32"'].map(ascii);
