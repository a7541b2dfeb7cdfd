// The one shape of a doctor check: it reads the configuration and the host through the
// context and says what it found. Bounded in time, never throws (see guarded()).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Config } from '../config/load.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One line of the report. */
export interface DoctorCheck {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a warn or fail. */
  fix?: string;
}

/** What checks may read of the host; each reader can be replaced in tests. */
export interface DoctorDeps {
  env: Readonly<Record<string, string | undefined>>;
  /** `/proc/self/status`, for capabilities. */
  readStatus?: () => Promise<string>;
  /** `/proc/mounts`. */
  readMounts?: () => Promise<string>;
  /** Runs `bin args` and resolves with its first output line, or rejects. */
  version?: (bin: string, args: readonly string[], timeoutMs: number) => Promise<string>;
  /** Opens the model and scores one window; resolves with a description. */
  model?: (config: Config) => Promise<string>;
  /** Opens (creating, migrating) the database; resolves with a description. */
  database?: (config: Config) => Promise<string>;
  timeoutMs?: number;
}

export interface DoctorContext {
  config: Config;
  env: Readonly<Record<string, string | undefined>>;
  timeoutMs: number;
  readStatus: () => Promise<string>;
  /** `/proc/mounts`, read once for all checks ('' when unreadable). */
  mounts: () => Promise<string>;
  version: (bin: string, args: readonly string[], timeoutMs: number) => Promise<string>;
  model?: (config: Config) => Promise<string>;
  database?: (config: Config) => Promise<string>;
}

/** A check: the lines it reports (none when it does not apply to this configuration). */
export type Check = (ctx: DoctorContext) => Promise<DoctorCheck[]>;

const runVersion = (bin: string, args: readonly string[], timeoutMs: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const first = out.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
      if (code === 0) resolve(first);
      else reject(new Error(signal ? `did not answer within ${timeoutMs} ms` : `exited with ${code}: ${first}`));
    });
  });

export function doctorContext(config: Config, deps: DoctorDeps): DoctorContext {
  const readMounts = deps.readMounts ?? (() => readFile('/proc/mounts', 'utf8'));
  let mounts: Promise<string> | undefined;
  return {
    config,
    env: deps.env,
    timeoutMs: deps.timeoutMs ?? 5000,
    readStatus: deps.readStatus ?? (() => readFile('/proc/self/status', 'utf8')),
    mounts: () => (mounts ??= readMounts().catch(() => '')),
    version: deps.version ?? runVersion,
    model: deps.model,
    database: deps.database,
  };
}

/** Runs `fn` within `timeoutMs`; its description is an ok line, a failure or timeout a failed one with `fix`. */
export async function guarded(name: string, fn: () => Promise<string>, fix: string, timeoutMs: number): Promise<DoctorCheck> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const detail = await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no result within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      }),
    ]);
    return { name, status: 'ok', detail };
  } catch (e) {
    return { name, status: 'fail', detail: (e as Error).message, fix };
  } finally {
    clearTimeout(timer);
  }
}

/** True when the configured source traces the kernel itself (needs privileges and tracefs). */
export function tracesKernel(config: Config): boolean {
  return config.source === 'managed' || config.source === 'bpftrace';
}
