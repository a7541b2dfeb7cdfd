// Tetragon JSON lines → syscall tokens, exec and exit events for an EventHandler.
//
// Hot path. A raw_syscalls/sys_enter tracepoint line is read without JSON.parse: the few
// fields needed (exec_id, pid, the syscall argument) are found where Tetragon's encoder puts
// them, with sticky regular expressions (native code) checking the structure around each one.
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
// A space after commas (some protobuf JSON encoders add one) is accepted. Anything else goes
// to the slow path, JSON.parse, which decides exactly: an event, an ignored type, or malformed.
// What the fast path does not check: the bytes it skips inside the process and parent objects
// and between `args` and `time`. Damage confined to those (not produced by truncation or by
// joined lines, which the checks above catch) is not detected; the fields read are exact.
// Full validation would cost a pass over every byte (about what JSON.parse costs), which is
// several times the budget of this path. Exec and exit lines always go through JSON.parse.
import type { Abi, EventHandler, LineSink } from '../core/types.js';
import type { Counters } from '../core/counters.js';
import { RateLimitedLog, type Logger } from '../core/logger.js';
import { NOT_A_SYSCALL, UNKNOWN_TOKEN, type Tokenizer } from '../syscalls/tokenizer.js';
import { interpret, type ParsedEvent } from './event-object.js';
import { nativeAbiOf } from '../syscalls/abi.js';

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

export { nativeAbiOf };

const TP_PREFIX = '{"process_tracepoint":{"process":{';
/** Where exec_id's value starts when it is the first field of the process. */
const EXEC_ID_AT = TP_PREFIX.length + '"exec_id":"'.length;
/** Prefix, optional exec_id (printable ASCII without `"` or `\\`: its text is its value), pid. */
const HEAD = /\{"process_tracepoint":\{"process":\{(?:"exec_id":"[\x20\x21\x23-\x5b\x5d-\x7e]+", ?)?"pid":\d{1,10}(?=[,}])/y;
/** At the `[` of args: what precedes it, and the whole syscall argument up to `}]` and `,` or `}`. */
const ARGS =
  /(?<=\}, ?"subsys":"raw_syscalls", ?"event":"sys_enter", ?"args":)\[\{"(?:syscall_id":\{(?:"id":\d{1,10}(?:, ?(?="abi"))?)?(?:"abi":"(?:x64|arm64|i386|arm32)")?\}|(?:long|size)_arg":(?:"\d{1,10}"|\d{1,10}))\}\](?=[,}])/y;
const TIME_KEY = ',"time":';
const SYSCALL_ID_LEN = 'syscall_id":{'.length;
const ARG_LEN = 'long_arg":'.length;
const ABI = '"abi":"';
const EVENT_START = '{"process_';
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
const C_BRACE_OPEN = 123;
const C_BRACE_CLOSE = 125;

/** True when `,"time":` (or `, "time":`) ends right before `at`. */
function isTimeKeyBefore(line: string, at: number): boolean {
  let i = at - 1;
  for (let k = TIME_KEY.length - 1; k > 0; k--, i--) if (line.charCodeAt(i) !== TIME_KEY.charCodeAt(k)) return false;
  if (line.charCodeAt(i) === C_SPACE) i--;
  return line.charCodeAt(i) === C_COMMA;
}

/** Characters of an RFC 3339 time: digits, T, Z, :, ., +, -. */
function isTimeChar(c: number): boolean {
  return (c >= C_0 && c <= C_9) || c === 84 || c === 90 || c === 58 || c === 46 || c === 43 || c === 45;
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
    // `{"process_t…`: worth trying the fast path (which checks the whole prefix itself).
    if (line.charCodeAt(10) === 116 && line.charCodeAt(0) === C_BRACE_OPEN) {
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
    // Sticky regular expressions run as native code; they check the structure around each
    // field read, and plain charCodeAt reads the values once the structure is known.
    HEAD.lastIndex = 0;
    if (!HEAD.test(line)) return false;
    const pidEnd = HEAD.lastIndex;
    let key: string | undefined;
    if (line.charCodeAt(TP_PREFIX.length + 1) === 101 /* e: exec_id, not pid */) {
      key = line.slice(EXEC_ID_AT, line.indexOf('"', EXEC_ID_AT));
    }

    // `"args":[` is the first `[` that follows `"args":` (`[` is rare, so indexOf is quick).
    let a = line.indexOf('[', pidEnd);
    for (;;) {
      if (a < 0) return false;
      ARGS.lastIndex = a;
      if (ARGS.test(line)) break;
      if (line.charCodeAt(a - 1) === C_COLON && line.charCodeAt(a - 2) === C_QUOTE && line.charCodeAt(a - 3) === 115 /* s */) return false;
      a = line.indexOf('[', a + 1);
    }
    const argsEnd = ARGS.lastIndex;

    // The structure is known to be right: read the number and the ABI.
    let p = a + 3;
    let table = this.nativeTable;
    let id = 0;
    if (line.charCodeAt(p + 1) === 121 /* y: syscall_id */) {
      p += SYSCALL_ID_LEN;
      if (line.charCodeAt(p + 1) === 105 /* i: "id" */) {
        p += 5;
        for (let c = line.charCodeAt(p); c >= C_0 && c <= C_9; c = line.charCodeAt(++p)) id = id * 10 + (c - C_0);
        if (line.charCodeAt(p) === C_COMMA) p += line.charCodeAt(p + 1) === C_SPACE ? 2 : 1;
      }
      if (line.charCodeAt(p) === C_QUOTE) {
        // "abi":" then x64 | arm64 | i386 | arm32
        const c = line.charCodeAt(p + 7);
        table = c === 120 ? this.x64 : c === 105 ? this.i386 : line.charCodeAt(p + 10) === 54 ? this.arm64 : this.arm32;
      }
    } else {
      p += ARG_LEN; // long_arg": or size_arg":
      if (line.charCodeAt(p) === C_QUOTE) p++;
      for (let c = line.charCodeAt(p); c >= C_0 && c <= C_9; c = line.charCodeAt(++p)) id = id * 10 + (c - C_0);
    }

    // The outer object is closed by `,"time":"…"}` at the very end.
    let e = line.length - 1;
    while (e > argsEnd && line.charCodeAt(e) <= C_SPACE) e--;
    if (line.charCodeAt(e) !== C_BRACE_CLOSE || line.charCodeAt(e - 1) !== C_QUOTE) return false;
    let t = e - 2;
    while (t > argsEnd && isTimeChar(line.charCodeAt(t))) t--;
    if (e - t < 3 || line.charCodeAt(t) !== C_QUOTE || !isTimeKeyBefore(line, t)) return false;
    // A second event start means two half-written lines were joined.
    for (let i = line.indexOf('{"p', EXEC_ID_AT); i >= 0; i = line.indexOf('{"p', i + 3)) {
      if (line.charCodeAt(i + 9) === 95 /* _ */ && line.charCodeAt(i + 3) === 114 /* r */) return false;
    }

    if (key === undefined) {
      let pid = 0;
      let d = pidEnd - 1;
      while (line.charCodeAt(d - 1) >= C_0 && line.charCodeAt(d - 1) <= C_9) d--;
      for (; d < pidEnd; d++) pid = pid * 10 + (line.charCodeAt(d) - C_0);
      key = `pid:${pid}`;
    }
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
