// Turns the bpftrace program's compact lines (see program.ts) into Tetragon-format JSON
// lines: process_exec, process_tracepoint (raw_syscalls/sys_enter with a syscall_id
// argument) and process_exit, with Tetragon's exec id (base64 of `node:ktime:pid`).
// Processes seen first through a syscall get a process_exec: a child forked without exec
// runs its parent's program (from the fork event, flagged "clone"); a process running
// before bpftrace started is read from /proc (flagged "procFS", as Tetragon does).
import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import type { Abi, LineSink } from '../../core/types.js';
import { nativeAbiOf } from '../../syscalls/abi.js';
import type { Clock } from '../../core/time.js';

export interface ProcInfo {
  binary: string;
  arguments: string;
  cwd?: string;
}

/** Reads a live process's binary, arguments and cwd from /proc (undefined once it is gone). */
export function readProc(pid: number): ProcInfo | undefined {
  try {
    const binary = readlinkSync(`/proc/${pid}/exe`);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (argv[argv.length - 1] === '') argv.pop();
    let cwd: string | undefined;
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      cwd = undefined;
    }
    return { binary: binary.replace(/ \(deleted\)$/, ''), arguments: argv.slice(1).join(' '), cwd };
  } catch {
    return undefined;
  }
}

/** `path` with every symbolic link resolved; undefined when it no longer exists. */
export function realpathOf(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** The syscall ABI of this host's native processes. */
export const hostAbi = nativeAbiOf;

export function tetragonExecId(node: string, ktime: string, pid: number | string): string {
  return Buffer.from(`${node}:${ktime}:${pid}`).toString('base64');
}

/** RFC 3339 with nanoseconds, as Tetragon writes times. */
export function isoNs(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`;
}

interface Proc {
  execId: string;
  pid: number;
  info: ProcInfo;
  uid: number | undefined;
  json: string;
  /** `{"process_tracepoint":{"process":…,"subsys":…,"args":[{"syscall_id":{"id":` */
  prefix: string;
}

export interface TranslatorOptions {
  node: string;
  sink: LineSink;
  abi?: Abi;
  clock: Clock;
  /** Wall-clock ns at CLOCK_MONOTONIC 0, to turn kernel times into dates. */
  bootWallNs: bigint;
  /** Reads process details (default: /proc). */
  proc?: (pid: number) => ProcInfo | undefined;
  /** The real path of an executed file, symbolic links resolved as Tetragon reports it (default: the file system's; undefined when it is gone). */
  realpath?: (path: string) => string | undefined;
  /** Processes remembered at most (oldest forgotten first). */
  maxProcesses?: number;
  /** Called for a line that is not one of the program's events. */
  other?: (line: string) => void;
}

/**
 * The text of bpftrace's `%r` output back to bytes: it writes non-printable bytes as `\xNN`
 * and everything else as is (a backslash too, so an argument that itself holds `\x41` is
 * read as `A`: the one ambiguity of the format).
 */
export function unescapeRaw(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c /* backslash */ && s.charCodeAt(i + 1) === 0x78 /* x */ && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
      out.push(parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else {
      out.push(c & 0xff);
    }
  }
  return Buffer.from(out);
}

/** `A` line payload → Tetragon's `arguments` (argv without argv[0], space-joined), and whether it was cut short. */
export function argumentsOf(raw: string, fullLength: number): { arguments: string; complete: boolean } {
  const bytes = unescapeRaw(raw);
  const argv = bytes.toString('utf8').split('\0');
  if (argv[argv.length - 1] === '') argv.pop();
  return { arguments: argv.slice(1).join(' '), complete: bytes.length >= fullLength };
}

export class BpftraceTranslator {
  private readonly procs = new Map<string, Proc>();
  private readonly realpaths = new Map<string, string>();
  /** Forked children not seen yet: child pid → the parent's key (`pid ktime`). */
  private readonly forks = new Map<number, string>();
  /** Arguments read in the kernel at exec, waiting for their `E` line (same CPU, next line). */
  private readonly execArgs = new Map<string, { arguments: string; complete: boolean }>();
  private readonly node: string;
  private readonly nodeJson: string;
  private readonly abi: Abi;
  private readonly proc: (pid: number) => ProcInfo | undefined;
  private readonly max: number;
  private lastMs = -1;
  private timeSuffix = '';

  constructor(private readonly o: TranslatorOptions) {
    this.node = o.node;
    this.nodeJson = JSON.stringify(o.node);
    this.abi = o.abi ?? hostAbi();
    this.proc = o.proc ?? readProc;
    this.max = o.maxProcesses ?? 65_536;
  }

  /** Processes currently remembered. */
  get size(): number {
    return this.procs.size;
  }

  line(l: string): void {
    const kind = l.charCodeAt(0);
    if (l.charCodeAt(1) !== 0x20) {
      this.o.other?.(l);
      return;
    }
    if (kind === 0x53 /* S */) this.syscall(l);
    else if (kind === 0x41 /* A */) this.args(l);
    else if (kind === 0x45 /* E */) this.exec(l);
    else if (kind === 0x58 /* X */) this.exit(l);
    else if (kind === 0x46 /* F */) this.fork(l);
    else this.other(l);
  }

  private other(l: string): void {
    this.o.other?.(l);
  }

  private syscall(l: string): void {
    const sp = l.lastIndexOf(' ');
    const key = l.slice(2, sp);
    let p = this.procs.get(key);
    if (p === undefined) {
      p = this.discover(key);
      if (p === undefined) return this.other(l);
    }
    this.o.sink.line(`${p.prefix}${l.slice(sp + 1)}${this.suffix()}`);
  }

  /** A process first seen through a syscall: its parent's program if it was forked, else /proc; announced by a process_exec. */
  private discover(key: string): Proc | undefined {
    const sp = key.indexOf(' ');
    const pid = Number(key.slice(0, sp));
    const ktime = key.slice(sp + 1);
    if (!Number.isInteger(pid) || !/^\d+$/.test(ktime)) return undefined;
    const parentKey = this.forks.get(pid);
    const parent = parentKey === undefined ? undefined : this.procs.get(parentKey);
    this.forks.delete(pid);
    const p =
      parent !== undefined
        ? this.remember(key, pid, ktime, parent.info, 'clone', parent.execId, parent.uid)
        : this.remember(key, pid, ktime, this.proc(pid) ?? { binary: '', arguments: '' }, 'procFS', undefined, undefined);
    const parentJson = parent === undefined ? '' : `,"parent":{"exec_id":"${parent.execId}","pid":${parent.pid},"binary":${JSON.stringify(parent.info.binary)}}`;
    this.o.sink.line(`{"process_exec":{"process":${p.json}${parentJson}},"node_name":${this.nodeJson},"time":"${this.now()}"}`);
    return p;
  }

  private fork(l: string): void {
    // F pid ktime child
    const s1 = l.indexOf(' ', 2);
    const s2 = l.indexOf(' ', s1 + 1);
    const child = Number(l.slice(s2 + 1));
    if (s1 < 0 || s2 < 0 || !Number.isInteger(child)) return this.other(l);
    // A thread's id never shows up as a pid; bounded, oldest forgotten first.
    if (this.forks.size >= 4096) this.forks.delete(this.forks.keys().next().value as number);
    this.forks.set(child, l.slice(2, s2));
  }

  private args(l: string): void {
    // A pid ktime length argv
    const s1 = l.indexOf(' ', 2);
    const s2 = l.indexOf(' ', s1 + 1);
    const s3 = l.indexOf(' ', s2 + 1);
    if (s1 < 0 || s2 < 0 || s3 < 0) return this.other(l);
    const full = Number(l.slice(s2 + 1, s3));
    if (this.execArgs.size >= 1024) this.execArgs.delete(this.execArgs.keys().next().value as string);
    this.execArgs.set(l.slice(2, s2), argumentsOf(l.slice(s3 + 1), full));
  }

  private exec(l: string): void {
    // E pid ktime ppid pktime uid filename (the filename may hold spaces)
    let at = 2;
    const f: string[] = [];
    for (let i = 0; i < 5; i++) {
      const sp = l.indexOf(' ', at);
      if (sp === -1) return this.other(l);
      f.push(l.slice(at, sp));
      at = sp + 1;
    }
    const filename = this.resolve(l.slice(at));
    const [pidS, ktime, ppidS, pktime, uidS] = f;
    const pid = Number(pidS);
    const ppid = Number(ppidS);
    const info = this.proc(pid);
    const kernel = this.execArgs.get(`${pidS} ${ktime}`);
    this.execArgs.delete(`${pidS} ${ktime}`);
    // The process may be gone (or have exec'd again) already: keep the kernel's filename, and
    // the arguments read in the kernel unless they were cut short and /proc still has them all.
    const fromProc = info !== undefined && info.binary === filename ? info.arguments : undefined;
    const args = kernel !== undefined && (kernel.complete || fromProc === undefined) ? kernel.arguments : (fromProc ?? '');
    const details: ProcInfo = { binary: filename, arguments: args, cwd: info?.cwd };
    const parent = this.procs.get(`${ppid} ${pktime}`);
    const parentExecId = tetragonExecId(this.node, pktime, ppid);
    const p = this.remember(`${pid} ${ktime}`, pid, ktime, details, 'execve', parentExecId, Number(uidS));
    const parentJson = `{"exec_id":"${parentExecId}","pid":${ppid}${parent !== undefined ? `,"binary":${JSON.stringify(parent.info.binary)}` : ''}}`;
    this.o.sink.line(`{"process_exec":{"process":${p.json},"parent":${parentJson}},"node_name":${this.nodeJson},"time":"${this.wall(ktime)}"}`);
  }

  private exit(l: string): void {
    const sp = l.lastIndexOf(' ');
    const key = l.slice(2, sp);
    const code = Number(l.slice(sp + 1));
    const s1 = key.indexOf(' ');
    const pid = Number(key.slice(0, s1));
    const ktime = key.slice(s1 + 1);
    if (!Number.isInteger(pid) || !/^\d+$/.test(ktime)) return this.other(l);
    const p = this.procs.get(key);
    this.procs.delete(key);
    const process = p?.json ?? `{"exec_id":"${tetragonExecId(this.node, ktime, pid)}","pid":${pid}}`;
    const sig = code & 0x7f;
    const status = (code >> 8) & 0xff;
    const extra = `${sig !== 0 ? `,"signal":"${signalName(sig)}"` : ''}${status !== 0 ? `,"status":${status}` : ''}`;
    this.o.sink.line(`{"process_exit":{"process":${process}${extra}},"node_name":${this.nodeJson},"time":"${this.now()}"}`);
  }

  /** The exec'd path with symbolic links resolved (/bin/sh → /usr/bin/dash), remembered per path. */
  private resolve(path: string): string {
    const known = this.realpaths.get(path);
    if (known !== undefined) return known;
    const real = this.o.realpath === undefined ? realpathOf(path) : this.o.realpath(path);
    if (real === undefined) return path;
    if (this.realpaths.size >= 1024) this.realpaths.delete(this.realpaths.keys().next().value as string);
    this.realpaths.set(path, real);
    return real;
  }

  private remember(key: string, pid: number, ktime: string, info: ProcInfo, flags: string, parentExecId: string | undefined, uid: number | undefined): Proc {
    const execId = tetragonExecId(this.node, ktime, pid);
    const fields = [
      `"exec_id":"${execId}"`,
      `"pid":${pid}`,
      uid !== undefined ? `"uid":${uid}` : '',
      info.cwd !== undefined ? `"cwd":${JSON.stringify(info.cwd)}` : '',
      `"binary":${JSON.stringify(info.binary)}`,
      `"arguments":${JSON.stringify(info.arguments)}`,
      `"flags":"${flags}"`,
      `"start_time":"${this.wall(ktime)}"`,
      parentExecId !== undefined ? `"parent_exec_id":"${parentExecId}"` : '',
      `"tid":${pid}`,
    ].filter((s) => s !== '');
    const json = `{${fields.join(',')}}`;
    const p: Proc = {
      execId,
      pid,
      info,
      uid,
      json,
      prefix: `{"process_tracepoint":{"process":${json},"subsys":"raw_syscalls","event":"sys_enter","args":[{"syscall_id":{"id":`,
    };
    if (this.procs.size >= this.max) {
      const oldest = this.procs.keys().next().value;
      if (oldest !== undefined) this.procs.delete(oldest);
    }
    this.procs.set(key, p);
    return p;
  }


  /** `,"abi":"x64"}}]},"node_name":…,"time":"<now>"}`, rebuilt once per millisecond. */
  private suffix(): string {
    const ms = this.o.clock.now();
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.timeSuffix = `,"abi":"${this.abi}"}}]},"node_name":${this.nodeJson},"time":"${new Date(ms).toISOString()}"}`;
    }
    return this.timeSuffix;
  }

  private now(): string {
    return new Date(this.o.clock.now()).toISOString();
  }

  private wall(ktime: string): string {
    return isoNs(this.o.bootWallNs + BigInt(ktime));
  }
}

const SIGNALS = ['', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1', 'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS'];

function signalName(n: number): string {
  return SIGNALS[n] ?? `SIG${n}`;
}
