// `argos doctor`: checks what the daemon needs on this host (Tetragon and its privileges,
// tracefs and BPF, the model and ONNX Runtime, the database, the broker and ntfy) and says
// what to fix. One file per check; they run in the order listed here.
import type { Config } from '../config/load.js';
import { doctorContext, type Check, type CheckStatus, type DoctorCheck, type DoctorDeps } from './check.js';
import { runtimeCheck } from './runtime.js';
import { tetragonCheck } from './tetragon.js';
import { exportSourceCheck } from './export-file.js';
import { tetraCheck } from './tetra.js';
import { bpftraceCheck } from './bpftrace.js';
import { replayCheck } from './replay.js';
import { privilegesCheck } from './privileges.js';
import { bpffsCheck, btfCheck, tracefsCheck } from './mounts.js';
import { modelCheck } from './model.js';
import { databaseCheck } from './database.js';
import { mqttCheck } from './mqtt.js';
import { ntfyCheck } from './ntfy.js';
import { healthEndpointCheck } from './health-endpoint.js';
import { redactUrlCredentials } from '../core/sanitize.js';

export type { CheckStatus, DoctorCheck, DoctorDeps };
export { brokerAddress, tcpReachable } from './mqtt.js';
export { whichSync } from './binary.js';

export const CHECKS: readonly Check[] = [
  runtimeCheck,
  // The configured source's own needs (each applies to one source).
  tetragonCheck,
  exportSourceCheck,
  tetraCheck,
  bpftraceCheck,
  replayCheck,
  privilegesCheck,
  tracefsCheck,
  bpffsCheck,
  btfCheck,
  modelCheck,
  databaseCheck,
  mqttCheck,
  ntfyCheck,
  healthEndpointCheck,
];

export async function runDoctor(config: Config, deps: DoctorDeps): Promise<DoctorCheck[]> {
  const ctx = doctorContext(config, deps);
  const checks: DoctorCheck[] = [];
  for (const check of CHECKS) checks.push(...(await check(ctx)));
  // Details and fixes quote settings and errors: never a credential inside a URL.
  return checks.map((c) => ({ ...c, detail: redactUrlCredentials(c.detail), ...(c.fix === undefined ? {} : { fix: redactUrlCredentials(c.fix) }) }));
}

/** Exit status of `argos doctor`: 1 when something needed is broken. */
export function doctorExitCode(checks: readonly DoctorCheck[]): number {
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}

/** The human-readable report. */
export function formatDoctor(checks: readonly DoctorCheck[]): string {
  const mark: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: '-   ' };
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.map((c) => {
    const head = `${mark[c.status]}  ${c.name.padEnd(width)}  ${c.detail}`;
    return c.fix && (c.status === 'fail' || c.status === 'warn') ? `${head}\n      ${' '.repeat(width)}  fix: ${c.fix}` : head;
  });
  const fails = checks.filter((c) => c.status === 'fail').length;
  const warns = checks.filter((c) => c.status === 'warn').length;
  lines.push('', fails > 0 ? `${fails} problem${fails === 1 ? '' : 's'} to fix before Argos can run${warns ? `, ${warns} warning${warns === 1 ? '' : 's'}` : ''}.` : warns > 0 ? `Argos can run; ${warns} warning${warns === 1 ? '' : 's'}.` : 'All good.');
  return `${lines.join('\n')}\n`;
}
