// Tetragon JSON lines → syscall tokens, exec and exit events for an EventHandler.
//
// Hot path. A raw_syscalls/sys_enter tracepoint line is read without JSON.parse: the few
// fields needed (exec_id, pid, the syscall argument) are found with startsWith/indexOf at the
// places Tetragon's encoder puts them. The fast path accepts a line only when all of this holds:
//   - it starts with `{"process_tracepoint":{"process":{` and the process begins with a
//     well-formed `"exec_id":"…"` (printable ASCII, no escapes) and/or `"pid":<digits>`;
//   - the first `"args":[` after the pid is preceded by `},"subsys":"raw_syscalls","event":"sys_enter",`
//     (a `}` closing the process or parent object) and holds a well-formed `syscall_id`
//     (`{"id":N,"abi":"…"}`, id omitted when 0), `long_arg` or `size_arg` (quoted or plain
//     digits) closed by `}]` and followed by `,` or `}`;
//   - the line ends with `,"time":"<RFC 3339 characters>"}` (so the outer object is closed:
//     a line cut short anywhere fails here);
//   - `{"process_` does not occur again (two half-written lines joined into one fail here).
// A space after commas (some protobuf JSON encoders add one) is accepted. Anything else goes
// to the slow path, JSON.parse, which decides exactly: an event, an ignored type, or malformed.
// What the fast path does not check: the bytes it skips inside the process and parent objects
// and between `args` and `time`. Damage confined to those (not produced by truncation or by
// joined lines, which the checks above catch) is not detected; the fields read are exact.
// Exec and exit lines are rare and always go through JSON.parse.
import type { Abi, EventHandler, LineSink } from '../core/types.js';
import type { Counters } from '../core/counters.js';
import { RateLimitedLog, type Logger } from '../core/logger.js';
import { NOT_A_SYSCALL, UNKNOWN_TOKEN, type Tokenizer } from '../syscalls/tokenizer.js';
import { interpret, type ParsedEvent } from './event-object.js';

export interface ParserOptions {
  handler: EventHandler;
  tokenizer: Tokenizer;
  counters: Counters;
  log: Logger;
  /** ABI of `long_arg`/`size_arg` numbers and of a `syscall_id` without abi. Default: this machine's. */
  nativeAbi?: Abi;
  /** Clock for log rate limiting (tests). */
  now?: () => number;
}

/** The syscall ABI of a Node `process.arch`. */
export function nativeAbiOf(arch: string = process.arch): Abi {
  switch (arch) {
    case 'arm64':
      return 'arm64';
    case 'arm':
      return 'arm32';
    case 'ia32':
      return 'i386';
    default:
      return 'x64';
  }
}

const TP_PREFIX = '{"process_tracepoint":{"process":{';
const EXEC_ID = '"exec_id":"';
const PID = '"pid":';
const SUBSYS = '"subsys":"raw_syscalls"';
const EVENT = '"event":"sys_enter"';
const ARGS_KEY = '"args":';
const SYSCALL_ID = 'syscall_id":{';
const LONG_ARG = 'long_arg":';
const SIZE_ARG = 'size_arg":';
const ID = '"id":';
const ABI = '"abi":"';
const TIME = '"time":';
const EVENT_START = '{"process_';
const EXEC_PREFIX = '{"process_exec":';
const EXIT_PREFIX = '{"process_exit":';

// Prefixes of event types we do not use; ignored after a structural check (see ignoredFast).
const IGNORED_PREFIXES = ['{"process_kprobe":{', '{"process_uprobe":{', '{"process_lsm":{', '{"process_throttle":{', '{"rate_limit_info":{', '{"process_usdt":{', '{"process_loader":{'];

const C_QUOTE = 34;
const C_COMMA = 44;
const C_SPACE = 32;
const C_0 = 48;
const C_9 = 57;
const C_BRACE_OPEN = 123;
const C_BRACE_CLOSE = 125;
const C_BRACKET_CLOSE = 93;
const C_BACKSLASH = 92;

/** Index after `,` and one optional space at `i`, or -1. */
function comma(line: string, i: number): number {
  if (line.charCodeAt(i) !== C_COMMA) return -1;
  return line.charCodeAt(i + 1) === C_SPACE ? i + 2 : i + 1;
}

/** Index of the `,` that ends at `i` (`,` or `, `), or -1. */
function commaBefore(line: string, i: number): number {
  if (line.charCodeAt(i) === C_SPACE) i--;
  return line.charCodeAt(i) === C_COMMA ? i : -1;
}

/** Characters of an RFC 3339 time: digits, T, Z, :, ., +, -. */
function isTimeChar(c: number): boolean {
  return (c >= C_0 && c <= C_9) || c === 84 || c === 90 || c === 58 || c === 46 || c === 43 || c === 45;
}

/** True when line[s, q) is a JSON string body whose text is its value (printable ASCII, no escapes). */
function plainString(line: string, s: number, q: number): boolean {
  for (let i = s; i < q; i++) {
    const c = line.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === C_BACKSLASH) return false;
  }
  return true;
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
  /** The key of the previous syscall line: consecutive calls of one process reuse the string. */
  private lastKey = '';

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
    this.badLines = new RateLimitedLog(log, 10, 60_000, opts.now);
    this.unknownLog = new RateLimitedLog(log, 10, 60_000, opts.now);
  }

  /** One event line (no trailing newline). Never throws on bad input. */
  line(line: string): void {
    this.counters.events++;
    if (line.startsWith(TP_PREFIX)) {
      if (this.tracepointFast(line)) return;
    } else if (!line.startsWith(EXEC_PREFIX) && !line.startsWith(EXIT_PREFIX) && this.ignoredFast(line)) {
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

  /** The fast path (see the header). Returns false to hand the line to the slow path. */
  private tracepointFast(line: string): boolean {
    let p = TP_PREFIX.length;
    let key: string | undefined;
    if (line.startsWith(EXEC_ID, p)) {
      const s = p + EXEC_ID.length;
      const last = this.lastKey;
      let q: number;
      if (last.length > 0 && line.charCodeAt(s + last.length) === C_QUOTE && line.startsWith(last, s)) {
        key = last;
        q = s + last.length;
      } else {
        q = line.indexOf('"', s);
        if (q <= s || !plainString(line, s, q)) return false;
        key = line.slice(s, q);
      }
      p = comma(line, q + 1);
      if (p < 0 || !line.startsWith(PID, p)) return false;
    } else if (!line.startsWith(PID, p)) {
      return false;
    }
    p += PID.length;
    let pid = 0;
    const pidStart = p;
    for (let c = line.charCodeAt(p); c >= C_0 && c <= C_9 && p - pidStart < 10; c = line.charCodeAt(++p)) pid = pid * 10 + (c - C_0);
    if (p === pidStart || (line.charCodeAt(p) !== C_COMMA && line.charCodeAt(p) !== C_BRACE_CLOSE)) return false;

    // `"args":[` is the first `[` that follows `"args":` (`[` is rare, so indexOf is quick),
    // then `},"subsys":"raw_syscalls","event":"sys_enter",` is checked right before it.
    let a = line.indexOf('[', p);
    while (a >= 0 && !(line.startsWith(ARGS_KEY, a - ARGS_KEY.length) && line.charCodeAt(a - ARGS_KEY.length - 1) !== C_BACKSLASH)) a = line.indexOf('[', a + 1);
    if (a < 0) return false;
    let b = commaBefore(line, a - ARGS_KEY.length - 1) - EVENT.length;
    if (b < 0 || !line.startsWith(EVENT, b)) return false;
    b = commaBefore(line, b - 1) - SUBSYS.length;
    if (b < p || !line.startsWith(SUBSYS, b)) return false;
    b = commaBefore(line, b - 1);
    if (b < 0 || line.charCodeAt(b - 1) !== C_BRACE_CLOSE) return false;
    p = a + 1;
    if (line.charCodeAt(p) !== C_BRACE_OPEN || line.charCodeAt(p + 1) !== C_QUOTE) return false;
    p += 2;

    let table: Int32Array;
    let id = 0;
    if (line.startsWith(SYSCALL_ID, p)) {
      p += SYSCALL_ID.length;
      table = this.nativeTable;
      if (line.startsWith(ID, p)) {
        p += ID.length;
        const d = p;
        for (let c = line.charCodeAt(p); c >= C_0 && c <= C_9 && p - d < 10; c = line.charCodeAt(++p)) id = id * 10 + (c - C_0);
        if (p === d) return false;
        if (line.charCodeAt(p) === C_COMMA) {
          p = comma(line, p);
          if (!line.startsWith(ABI, p)) return false;
        }
      }
      if (line.startsWith(ABI, p)) {
        p += ABI.length;
        if (line.startsWith('x64"', p)) {
          table = this.x64;
          p += 4;
        } else if (line.startsWith('arm64"', p)) {
          table = this.arm64;
          p += 6;
        } else if (line.startsWith('i386"', p)) {
          table = this.i386;
          p += 5;
        } else if (line.startsWith('arm32"', p)) {
          table = this.arm32;
          p += 6;
        } else {
          return false; // an ABI we have no table for: the slow path counts it
        }
      }
      if (line.charCodeAt(p) !== C_BRACE_CLOSE) return false;
      p++;
    } else if (line.startsWith(LONG_ARG, p) || line.startsWith(SIZE_ARG, p)) {
      p += LONG_ARG.length;
      table = this.nativeTable;
      const quoted = line.charCodeAt(p) === C_QUOTE;
      if (quoted) p++;
      const d = p;
      for (let c = line.charCodeAt(p); c >= C_0 && c <= C_9 && p - d < 10; c = line.charCodeAt(++p)) id = id * 10 + (c - C_0);
      if (p === d) return false;
      if (quoted) {
        if (line.charCodeAt(p) !== C_QUOTE) return false;
        p++;
      }
    } else {
      return false;
    }
    if (line.charCodeAt(p) !== C_BRACE_CLOSE || line.charCodeAt(p + 1) !== C_BRACKET_CLOSE) return false;
    p += 2;
    const after = line.charCodeAt(p);
    if (after !== C_COMMA && after !== C_BRACE_CLOSE) return false;

    // The outer object is closed by `,"time":"…"}` at the very end.
    let e = line.length - 1;
    while (e > p && line.charCodeAt(e) <= C_SPACE) e--;
    if (line.charCodeAt(e) !== C_BRACE_CLOSE || line.charCodeAt(e - 1) !== C_QUOTE) return false;
    let t = e - 2;
    while (t > p && isTimeChar(line.charCodeAt(t))) t--;
    if (line.charCodeAt(t) !== C_QUOTE || !line.startsWith(TIME, t - TIME.length)) return false;
    let c = t - TIME.length - 1;
    if (line.charCodeAt(c) === C_SPACE) c--;
    if (line.charCodeAt(c) !== C_COMMA) return false;
    if (line.indexOf(EVENT_START, 1) >= 0) return false;

    if (key === undefined) key = `pid:${pid}`;
    else this.lastKey = key;
    this.deliver(key, id < table.length ? table[id] : NOT_A_SYSCALL, id, line);
    return true;
  }

  private deliver(key: string, token: number, id: number, line: string, abiName?: string): void {
    if (token === NOT_A_SYSCALL) {
      this.counters.unknownSyscalls++;
      this.unknownLog.warn({ id, abi: abiName ?? this.abiNameOf(line) }, 'syscall number not in the ABI table; counted as unknown');
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
        this.deliver(ev.key, token, ev.id, line, ev.abiName);
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
    this.counters.malformed++;
    this.badLines.warn({ reason, length: line.length, start: line.slice(0, 160) }, 'skipped a bad event line');
  }
}
