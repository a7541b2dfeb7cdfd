// Deterministic, full-size Tetragon event lines for demos, tests and benchmarks: exec,
// raw_syscalls/sys_enter tracepoints and exit events of N processes, interleaved as on a
// busy node, with pod context and long command lines. Same seed, same bytes.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Abi } from '../core/types.js';
import { NAMES_BY_NUMBER } from '../syscalls/names.js';
import { prng } from '../core/random.js';

export type SyscallArgForm = 'syscall_id' | 'long_arg' | 'size_arg';

export interface SyntheticOptions {
  /** PRNG seed; the same options give the same lines. Default 1. */
  seed?: number;
  /** Processes to run (each: one exec, its syscalls, one exit). */
  processes: number;
  /** Mean syscalls per process (each process gets 0.25×–1.75× this). Default 1000. */
  syscallsPerProcess?: number;
  /** Processes alive at once, their events interleaved. Default 32. */
  concurrency?: number;
  abi?: Abi;
  /** Argument form of the sys_enter tracepoint (the policy's argument type). Default syscall_id. */
  form?: SyscallArgForm;
  node?: string;
  /** Wall-clock start, ms since the epoch. Default 2025-01-01T10:00:00Z. */
  startMs?: number;
  /** Share of processes running in a Kubernetes pod (0..1). Default 0.75. */
  podShare?: number;
  /** Smallest and largest pid handed out; a small range makes pids repeat across execs. */
  pidRange?: [number, number];
}

export interface SyntheticStats {
  lines: number;
  syscalls: number;
  execs: number;
  exits: number;
  bytes: number;
}

// Programs a node runs, each with the calls it repeats most.
const PROGRAMS: { binary: string; args: string[]; loop: string[] }[] = [
  { binary: '/usr/bin/curl', args: ['-sS', '--retry', '3', '-H', 'Authorization: Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IjBmN2QifQ', 'https://telemetry.edge.example.com/v1/ingest?device=pi-7&batch=1024'], loop: ['poll', 'recvfrom', 'sendto', 'clock_gettime', 'read'] },
  { binary: '/usr/local/bin/sensor-agent', args: ['--config', '/etc/sensor/agent.yaml', '--mqtt-url', 'mqtts://broker.edge.example.com:8883', '--interval', '250ms', '--log-level', 'info'], loop: ['epoll_pwait', 'read', 'write', 'futex', 'clock_gettime', 'nanosleep'] },
  { binary: '/usr/bin/python3', args: ['/opt/app/worker.py', '--queue', 'amqp://guest:guest@rabbitmq.default.svc.cluster.local:5672/%2F', '--prefetch', '32', '--metrics-port', '9102'], loop: ['read', 'fstat', 'lseek', 'mmap', 'munmap', 'futex', 'getpid'] },
  { binary: '/bin/sh', args: ['-c', 'while true; do cat /sys/class/thermal/thermal_zone0/temp >> /var/log/thermal.log; sleep 5; done'], loop: ['openat', 'read', 'close', 'write', 'wait4', 'rt_sigaction', 'clone'] },
  { binary: '/usr/sbin/nginx', args: ['-g', 'daemon off; worker_processes 2; error_log /dev/stderr warn;', '-c', '/etc/nginx/nginx.conf'], loop: ['epoll_wait', 'accept4', 'recvfrom', 'openat', 'fstat', 'sendfile', 'writev', 'close'] },
  { binary: '/usr/bin/containerd-shim-runc-v2', args: ['-namespace', 'k8s.io', '-id', '7f3c0a9e6b2d41c58e0f4a7b9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d', '-address', '/run/containerd/containerd.sock'], loop: ['futex', 'epoll_pwait', 'nanosleep', 'read', 'write', 'getdents64'] },
];

const COMMON = ['read', 'write', 'openat', 'close', 'fstat', 'mmap', 'mprotect', 'munmap', 'brk', 'rt_sigaction', 'rt_sigprocmask', 'ioctl', 'access', 'getpid', 'futex', 'clock_gettime', 'getrandom', 'newfstatat', 'lseek', 'pread64'];

const PODS = [
  { namespace: 'kubeedge', name: 'edgemesh-agent-7x2kq', workload: 'edgemesh-agent', kind: 'DaemonSet', container: 'edgemesh-agent', image: 'docker.io/kubeedge/edgemesh-agent:v1.17.0' },
  { namespace: 'default', name: 'sensor-gateway-5d9f8b7c6-wq4zt', workload: 'sensor-gateway', kind: 'Deployment', container: 'gateway', image: 'registry.example.com/iot/sensor-gateway:2.4.1' },
  { namespace: 'monitoring', name: 'node-exporter-hx8vd', workload: 'node-exporter', kind: 'DaemonSet', container: 'node-exporter', image: 'quay.io/prometheus/node-exporter:v1.8.2' },
];

function idsOf(abi: Abi, names: readonly string[]): number[] {
  const table = NAMES_BY_NUMBER[abi];
  const ids: number[] = [];
  for (const n of names) {
    // The ABI's own spelling of the call, if it has it (arm64 has no stat/open, i386 says mmap2...).
    for (const candidate of [n, `${n}64`, n === 'mmap' ? 'mmap2' : n, n === 'newfstatat' ? 'fstatat64' : n, n === 'epoll_wait' ? 'epoll_pwait' : n, n === 'poll' ? 'ppoll' : n]) {
      const id = table.indexOf(candidate);
      if (id >= 0) {
        ids.push(id);
        break;
      }
    }
  }
  return ids;
}

function hex(rand: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(rand() * 16)];
  return s;
}

/** RFC 3339 with nanoseconds, as Tetragon writes `time`. */
function rfc3339(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2025-01-01T10:00:00.123Z
  return `${iso.slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

interface Live {
  execId: string;
  processJson: string;
  parentJson: string;
  remaining: number;
  loop: number[];
  loopAt: number;
  tid: number;
}

/**
 * The event lines (without newlines). Yields exec, sys_enter and exit events in a realistic
 * interleaving; every process is exec'd before its first syscall and exits after its last.
 */
export function* syntheticLines(opts: SyntheticOptions): Generator<string> {
  const rand = prng(opts.seed ?? 1);
  const abi = opts.abi ?? 'x64';
  const form = opts.form ?? 'syscall_id';
  const node = opts.node ?? 'edge-node-1';
  const mean = opts.syscallsPerProcess ?? 1000;
  const concurrency = Math.max(1, opts.concurrency ?? 32);
  const podShare = opts.podShare ?? 0.75;
  const [pidMin, pidMax] = opts.pidRange ?? [1000, 4_000_000];
  let clockNs = BigInt(opts.startMs ?? Date.UTC(2025, 0, 1, 10)) * 1_000_000n;
  const bootNs = clockNs - 3_600_000_000_000n;
  const common = idsOf(abi, COMMON);
  const loops = PROGRAMS.map((p) => idsOf(abi, p.loop));
  const nodeJson = JSON.stringify(node);
  let pidNext = pidMin;
  let started = 0;
  const live: Live[] = [];
  const parentPid = pidMin > 1 ? pidMin - 1 : 1;
  const parentExecId = Buffer.from(`${node}:1000000:${parentPid}`).toString('base64');
  const parentJson = JSON.stringify({
    exec_id: parentExecId,
    pid: parentPid,
    uid: 0,
    cwd: '/',
    binary: '/usr/bin/containerd',
    arguments: '--config /etc/containerd/config.toml --log-level warn',
    flags: 'procFS auid rootcwd',
    start_time: rfc3339(bootNs + 1_000_000n),
    auid: 4294967295,
    parent_exec_id: Buffer.from(`${node}:1:1`).toString('base64'),
    tid: parentPid,
  });

  const tick = (): string => {
    clockNs += BigInt(200 + Math.floor(rand() * 1800));
    return rfc3339(clockNs);
  };

  const start = (): Live => {
    const prog = Math.floor(rand() * PROGRAMS.length);
    const p = PROGRAMS[prog];
    const pid = pidNext;
    pidNext = pidNext >= pidMax ? pidMin : pidNext + 1;
    const ktime = clockNs - bootNs;
    const execId = Buffer.from(`${node}:${ktime}:${pid}`).toString('base64');
    const uid = rand() < 0.5 ? 0 : 1000;
    const process: Record<string, unknown> = {
      exec_id: execId,
      pid,
      uid,
      cwd: uid === 0 ? '/' : '/home/pi',
      binary: p.binary,
      arguments: p.args.join(' '),
      flags: 'execve clone',
      start_time: rfc3339(clockNs),
      auid: uid === 0 ? 4294967295 : uid,
    };
    if (rand() < podShare) {
      const pod = PODS[Math.floor(rand() * PODS.length)];
      const cid = hex(rand, 64);
      process.pod = {
        namespace: pod.namespace,
        name: pod.name,
        container: {
          id: `containerd://${cid}`,
          name: pod.container,
          image: { id: `${pod.image.split(':')[0]}@sha256:${hex(rand, 64)}`, name: pod.image },
          start_time: rfc3339(clockNs - 60_000_000_000n),
          pid: 1 + Math.floor(rand() * 40),
        },
        pod_labels: { 'app.kubernetes.io/name': pod.container, 'app.kubernetes.io/part-of': 'edge-stack', 'pod-template-hash': hex(rand, 9) },
        workload: pod.workload,
        workload_kind: pod.kind,
      };
      process.docker = cid.slice(0, 31);
    }
    process.parent_exec_id = parentExecId;
    const count = Math.max(1, Math.round(mean * (0.25 + 1.5 * rand())));
    started++;
    return { execId, processJson: JSON.stringify(process), parentJson, remaining: count, loop: loops[prog], loopAt: 0, tid: pid };
  };

  const execLine = (l: Live): string => `{"process_exec":{"process":${l.processJson},"parent":${l.parentJson}},"node_name":${nodeJson},"time":"${tick()}"}`;

  const exitLine = (l: Live): string => {
    const time = tick();
    const failed = rand() < 0.1;
    const tail = failed ? `,"status":1` : '';
    return `{"process_exit":{"process":${l.processJson},"parent":${l.parentJson}${tail},"time":"${time}"},"node_name":${nodeJson},"time":"${time}"}`;
  };

  const syscallArg = (id: number): string => {
    switch (form) {
      case 'syscall_id':
        // Protobuf JSON omits fields at their default: syscall 0 has no "id".
        return id === 0 ? `{"syscall_id":{"abi":"${abi}"}}` : `{"syscall_id":{"id":${id},"abi":"${abi}"}}`;
      case 'long_arg':
        return `{"long_arg":"${id}"}`;
      case 'size_arg':
        return `{"size_arg":"${id}"}`;
    }
  };

  const syscallLine = (l: Live, id: number): string => {
    // The tracepoint's process carries the calling thread; Tetragon adds refcnt and tid.
    const proc = `${l.processJson.slice(0, -1)},"refcnt":1,"tid":${l.tid}}`;
    return `{"process_tracepoint":{"process":${proc},"parent":${l.parentJson},"subsys":"raw_syscalls","event":"sys_enter","args":[${syscallArg(id)}],"policy_name":"argos-raw-syscalls","action":"KPROBE_ACTION_POST"},"node_name":${nodeJson},"time":"${tick()}"}`;
  };

  while (started < opts.processes || live.length > 0) {
    while (live.length < concurrency && started < opts.processes) {
      const l = start();
      live.push(l);
      yield execLine(l);
    }
    const i = Math.floor(rand() * live.length);
    const l = live[i];
    // A burst of calls from one thread before the scheduler moves on.
    const burst = Math.min(l.remaining, 1 + Math.floor(rand() * 16));
    for (let k = 0; k < burst; k++) {
      let id: number;
      if (rand() < 0.8 && l.loop.length > 0) {
        id = l.loop[l.loopAt];
        l.loopAt = (l.loopAt + 1) % l.loop.length;
      } else {
        id = common[Math.floor(rand() * common.length)];
      }
      yield syscallLine(l, id);
    }
    l.remaining -= burst;
    if (l.remaining === 0) {
      live.splice(i, 1);
      yield exitLine(l);
    }
  }
}

/** Counts what `syntheticLines(opts)` yields, by kind. */
function kindOf(line: string): 'syscall' | 'exec' | 'exit' {
  return line.startsWith('{"process_tracepoint"') ? 'syscall' : line.startsWith('{"process_exec"') ? 'exec' : 'exit';
}

/** Writes a JSON-lines recording to `path`; returns what it wrote. */
export async function writeSyntheticRecording(path: string, opts: SyntheticOptions): Promise<SyntheticStats> {
  const stats: SyntheticStats = { lines: 0, syscalls: 0, execs: 0, exits: 0, bytes: 0 };
  const out = createWriteStream(path);
  let buf: string[] = [];
  let bufLen = 0;
  try {
    for (const line of syntheticLines(opts)) {
      stats.lines++;
      const k = kindOf(line);
      if (k === 'syscall') stats.syscalls++;
      else if (k === 'exec') stats.execs++;
      else stats.exits++;
      buf.push(line);
      bufLen += line.length + 1;
      if (bufLen >= 1 << 20) {
        stats.bytes += bufLen;
        if (!out.write(buf.join('\n') + '\n')) await once(out, 'drain');
        buf = [];
        bufLen = 0;
      }
    }
    if (buf.length > 0) {
      stats.bytes += bufLen;
      out.write(buf.join('\n') + '\n');
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return stats;
}
