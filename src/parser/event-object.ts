// Reading parsed Tetragon events (the slow path: exec, exit, and anything the fast path
// does not recognise). Nothing here throws on bad input; problems come back as strings.
import type { Abi, EventLine, PodInfo, ProcessInfo } from '../core/types.js';
import { capLength } from '../core/alert.js';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Event types Tetragon writes (the key holding the event); ours first. */
export const EVENT_TYPES = [
  'process_tracepoint',
  'process_exec',
  'process_exit',
  'process_kprobe',
  'process_uprobe',
  'process_lsm',
  'process_usdt',
  'process_loader',
  'process_throttle',
  'rate_limit_info',
  'test',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Top-level keys that sit next to the event. */
const ENVELOPE_KEYS = new Set(['node_name', 'time', 'aggregation_info', 'cluster_name', 'node_labels']);

export type ParsedEvent =
  | { kind: 'syscall'; key: string; abi: Abi | undefined; abiName: string; id: number }
  | { kind: 'exec'; process: ProcessInfo }
  | { kind: 'exit'; key: string }
  | { kind: 'ignored'; type: string }
  | { kind: 'malformed'; reason: string };

/** A uint32/int64/uint64 as Tetragon writes it: a plain number or a quoted decimal string. */
function integer(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v === 'string' && /^-?\d{1,16}$/.test(v)) return Number(v);
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The process key: exec_id, or `pid:<n>` when Tetragon gives none. */
export function keyOf(process: Json): string | undefined {
  const pid = process.pid === undefined ? 0 : integer(process.pid);
  if (pid === undefined || pid < 0) return undefined; // a pid of the wrong type: not an event we understand
  const execId = process.exec_id === undefined ? '' : str(process.exec_id);
  if (execId === undefined) return undefined;
  return execId !== '' ? execId : `pid:${pid}`;
}

/**
 * Longest host strings kept (the watched host chooses them): a path (PATH_MAX), a command line,
 * Kubernetes names (253), an image reference. Longer ones are cut and marked with `…`, so
 * one hostile process cannot inflate memory, the database or a message.
 */
export const MAX_BINARY = 4096;
export const MAX_ARGUMENTS = 65_536;
export const MAX_K8S_NAME = 253;
export const MAX_IMAGE = 1024;

function podOf(v: unknown): PodInfo | undefined {
  if (!isObject(v)) return undefined;
  const pod: PodInfo = { namespace: capLength(str(v.namespace) ?? '', MAX_K8S_NAME), name: capLength(str(v.name) ?? '', MAX_K8S_NAME) };
  if (isObject(v.container)) {
    const c = str(v.container.name);
    if (c !== undefined) pod.container = capLength(c, MAX_K8S_NAME);
    const image = isObject(v.container.image) ? str(v.container.image.name) : undefined;
    if (image !== undefined) pod.image = capLength(image, MAX_IMAGE);
  }
  return pod.namespace === '' && pod.name === '' ? undefined : pod;
}

/** ProcessInfo from a Tetragon `process` object; undefined when it has no usable key. */
export function processInfoOf(process: unknown): ProcessInfo | undefined {
  if (!isObject(process)) return undefined;
  const key = keyOf(process);
  if (key === undefined) return undefined;
  const info: ProcessInfo = {
    execId: key,
    pid: integer(process.pid) ?? 0,
    binary: capLength(str(process.binary) ?? '', MAX_BINARY),
    arguments: capLength(str(process.arguments) ?? '', MAX_ARGUMENTS),
  };
  const uid = integer(process.uid);
  if (uid !== undefined) info.uid = uid;
  const parent = str(process.parent_exec_id);
  if (parent !== undefined && parent !== '') info.parentExecId = parent;
  const start = str(process.start_time);
  if (start !== undefined) info.startTime = start;
  const pod = podOf(process.pod);
  if (pod !== undefined) info.pod = pod;
  return info;
}

function eventOf(obj: Json): { type: string; body: unknown } | undefined {
  for (const k in obj) {
    if (!ENVELOPE_KEYS.has(k)) return { type: k, body: obj[k] };
  }
  return undefined;
}

/** An event line the parser also reads as text. */
export interface TextEventLine extends EventLine {
  text(): string;
}

/** An EventLine over a string the caller already has. */
export function textLine(text: string): TextEventLine {
  return { text: () => text, process: () => processInfoFromLine(text) };
}

/** ProcessInfo of the process a Tetragon event line is about (slow: parses the whole line). */
export function processInfoFromLine(line: string): ProcessInfo | undefined {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isObject(obj)) return undefined;
  const ev = eventOf(obj);
  return ev !== undefined && isObject(ev.body) ? processInfoOf(ev.body.process) : undefined;
}

const ABI_NAMES: ReadonlyMap<string, Abi> = new Map([
  ['x64', 'x64'],
  ['i386', 'i386'],
  ['arm64', 'arm64'],
  ['arm32', 'arm32'],
]);

/** Maps an `abi` string to an Abi; undefined for one we have no table for. */
export function abiOf(name: string): Abi | undefined {
  return ABI_NAMES.get(name);
}

function syscallOf(tp: Json, nativeAbi: Abi): ParsedEvent {
  if (tp.subsys !== 'raw_syscalls' || tp.event !== 'sys_enter') return { kind: 'ignored', type: 'process_tracepoint' };
  if (!isObject(tp.process)) return { kind: 'malformed', reason: 'tracepoint without a process' };
  const key = keyOf(tp.process);
  if (key === undefined) return { kind: 'malformed', reason: 'process pid is not a number' };
  const args = tp.args;
  if (!Array.isArray(args) || !isObject(args[0])) return { kind: 'malformed', reason: 'sys_enter without args' };
  const arg = args[0];
  if (isObject(arg.syscall_id)) {
    const id = arg.syscall_id.id === undefined ? 0 : integer(arg.syscall_id.id);
    const abiName = arg.syscall_id.abi === undefined ? '' : str(arg.syscall_id.abi);
    if (id === undefined || abiName === undefined) return { kind: 'malformed', reason: 'syscall_id with a bad id or abi' };
    return { kind: 'syscall', key, abi: abiName === '' ? nativeAbi : abiOf(abiName), abiName, id };
  }
  const raw = 'long_arg' in arg ? arg.long_arg : 'size_arg' in arg ? arg.size_arg : undefined;
  if (raw === undefined) return { kind: 'malformed', reason: 'sys_enter argument is not syscall_id, long_arg or size_arg' };
  const id = integer(raw);
  if (id === undefined) return { kind: 'malformed', reason: 'syscall number is not an integer' };
  return { kind: 'syscall', key, abi: nativeAbi, abiName: nativeAbi, id };
}

/** Classifies one parsed line. */
export function interpret(obj: unknown, nativeAbi: Abi): ParsedEvent {
  if (!isObject(obj)) return { kind: 'malformed', reason: 'not a JSON object' };
  const ev = eventOf(obj);
  if (ev === undefined) return { kind: 'malformed', reason: 'no event in the line' };
  if (!isObject(ev.body)) return { kind: 'malformed', reason: `${ev.type} is not an object` };
  switch (ev.type) {
    case 'process_tracepoint':
      return syscallOf(ev.body, nativeAbi);
    case 'process_exec': {
      const process = processInfoOf(ev.body.process);
      const parent = ev.body.parent;
      if (process !== undefined && isObject(parent)) {
        const execId = str(parent.exec_id);
        if (execId !== undefined && execId !== '') process.parent = { pid: integer(parent.pid) ?? 0, execId, binary: str(parent.binary) ?? '' };
      }
      return process ? { kind: 'exec', process } : { kind: 'malformed', reason: 'process_exec without a usable process' };
    }
    case 'process_exit': {
      const key = isObject(ev.body.process) ? keyOf(ev.body.process) : undefined;
      return key !== undefined ? { kind: 'exit', key } : { kind: 'malformed', reason: 'process_exit without a usable process' };
    }
    default:
      return (EVENT_TYPES as readonly string[]).includes(ev.type) || ev.type.startsWith('process_')
        ? { kind: 'ignored', type: ev.type }
        : { kind: 'malformed', reason: `unknown event type ${JSON.stringify(ev.type.slice(0, 40))}` };
  }
}
