// Whether this process may load eBPF programs (what Tetragon and bpftrace need): root, or
// the capabilities CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN.
import { readFile } from 'node:fs/promises';

const NEEDED: ReadonlyArray<readonly [string, number]> = [
  ['CAP_SYS_ADMIN', 21],
  ['CAP_PERFMON', 38],
  ['CAP_BPF', 39],
];

/** Names of the needed capabilities missing from a /proc/<pid>/status text (CapEff line). */
export function missingCapabilities(status: string): string[] {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status);
  if (m === null) return [];
  const eff = BigInt(`0x${m[1]}`);
  return NEEDED.filter(([, bit]) => (eff & (1n << BigInt(bit))) === 0n).map(([name]) => name);
}

/**
 * A sentence saying what is missing to run `what`, or undefined when this process has the
 * privileges (or when it cannot tell: then the program's own error will say).
 */
export async function tracingPrivilegeProblem(what: string, readStatus: () => Promise<string> = () => readFile('/proc/self/status', 'utf8')): Promise<string | undefined> {
  let status: string;
  try {
    status = await readStatus();
  } catch {
    return undefined;
  }
  const missing = missingCapabilities(status);
  if (missing.length === 0) return undefined;
  return `${what} needs root, or the capabilities CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN (missing: ${missing.join(', ')}): run Argos as root, grant them (systemd AmbientCapabilities=, Kubernetes securityContext.capabilities), or use ARGOS_SOURCE=export to read the export file of a Tetragon that runs on its own`;
}
