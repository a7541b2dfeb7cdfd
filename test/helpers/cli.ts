// Runs the `argos` CLI from the checkout as a child process, as a user would.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PassThrough, Readable } from 'node:stream';
import { runCli as runInProcessCli } from '../../src/cli/program.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  child: ChildProcess;
  /** Output so far. */
  out(): { stdout: string; stderr: string };
  done: Promise<CliResult>;
}

/** Starts `argos ARGS`; kills it after `limitMs` so a hung command fails the test instead of hanging it. */
export function startCli(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer; cwd?: string; limitMs?: number; keepStdin?: boolean } = {}): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ORT_DISABLE_TELEMETRY: '1', ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  else if (!opts.keepStdin) child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.limitMs ?? 120_000);
  const done = new Promise<CliResult>((resolve) => {
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // Let the pipes finish.
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    });
  });
  return { child, out: () => ({ stdout, stderr }), done };
}

export function runCli(args: readonly string[], opts: Parameters<typeof startCli>[1] = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}

/** The last line of stdout, parsed as JSON. */
export function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

/** Runs `argos ARGS` inside the test process (faster; for commands that do not own the process). */
export async function runInProcess(
  args: readonly string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; stdin?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runInProcessCli(args, {
    env: opts.env ?? {},
    stdout,
    stderr,
    stdin: Readable.from(opts.stdin === undefined ? [] : [opts.stdin]),
    cwd: opts.cwd ?? ROOT,
  });
  return { code, stdout: out, stderr: err };
}
