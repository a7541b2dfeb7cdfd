// Builders for Tetragon-format JSON events (see the Tetragon event format notes):
// used to write recordings from syscall traces. One object per line, snake_case, int64 as strings.
import type { Abi, PodInfo } from '../core/types.js';

export interface RecordedProcess {
  node: string;
  pid: number;
  /** Kernel start time in ns, which makes the exec id unique per exec. */
  ktime: bigint;
  uid: number;
  cwd: string;
  binary: string;
  arguments: string;
  startTime: string;
  parent?: { pid: number; ktime: bigint; binary: string };
  pod?: PodInfo;
}

/** Tetragon's exec id: base64 of `node:ktime:pid`. */
export function execId(node: string, ktime: bigint, pid: number): string {
  return Buffer.from(`${node}:${ktime}:${pid}`).toString('base64');
}

function processObject(p: RecordedProcess): Record<string, unknown> {
  const o: Record<string, unknown> = {
    exec_id: execId(p.node, p.ktime, p.pid),
    pid: p.pid,
    uid: p.uid,
    cwd: p.cwd,
    binary: p.binary,
    arguments: p.arguments,
    flags: 'execve clone',
    start_time: p.startTime,
    auid: p.uid,
    tid: p.pid,
  };
  if (p.parent) o.parent_exec_id = execId(p.node, p.parent.ktime, p.parent.pid);
  if (p.pod) {
    o.pod = {
      namespace: p.pod.namespace,
      name: p.pod.name,
      container: { name: p.pod.container, image: { name: p.pod.image } },
    };
  }
  return o;
}

function parentObject(p: RecordedProcess): Record<string, unknown> | undefined {
  if (!p.parent) return undefined;
  return { exec_id: execId(p.node, p.parent.ktime, p.parent.pid), pid: p.parent.pid, binary: p.parent.binary };
}

export function execLine(p: RecordedProcess, time: string): string {
  return JSON.stringify({ process_exec: { process: processObject(p), parent: parentObject(p) }, node_name: p.node, time });
}

export function syscallLine(p: RecordedProcess, abi: Abi, id: number, time: string): string {
  return JSON.stringify({
    process_tracepoint: {
      process: processObject(p),
      parent: parentObject(p),
      subsys: 'raw_syscalls',
      event: 'sys_enter',
      args: [{ syscall_id: { id, abi } }],
      policy_name: 'argos-raw-syscalls',
      action: 'KPROBE_ACTION_POST',
    },
    node_name: p.node,
    time,
  });
}

export function exitLine(p: RecordedProcess, time: string, status = 0): string {
  const exit: Record<string, unknown> = { process: processObject(p), parent: parentObject(p), time };
  if (status !== 0) exit.status = status;
  return JSON.stringify({ process_exit: exit, node_name: p.node, time });
}

/** RFC 3339 with nanoseconds, from ns since the epoch. */
export function rfc3339Nanos(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // ...T10:00:01.123Z
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}
