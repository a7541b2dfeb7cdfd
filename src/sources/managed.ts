// The managed source: Argos starts Tetragon itself with the shipped raw_syscalls policy and
// an export file, and tails that file. Tetragon is restarted with capped exponential
// backoff and jitter whenever it dies; on stop it gets SIGTERM, then SIGKILL.
//
// Readiness = the export file grows. Tetragon writes a process_exec event for every process
// already running as soon as its sensors are loaded, and then the policy's events; so the
// first new bytes mean it is up and the policy is in force. (Its gRPC health endpoint would
// need a gRPC client and says nothing about the export file we depend on.)
import { access, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EventSource, LineSink } from '../core/types.js';
import type { Logger } from '../core/logger.js';
import type { Counters } from '../core/counters.js';
import { SupervisedChild } from './child.js';
import { ExportFileSource } from './export-file.js';
import { SourceError } from './errors.js';
import { defaultPolicyPath } from './policy.js';
import { tracingPrivilegeProblem } from './privileges.js';
import { delay, type BackoffOptions } from '../core/backoff.js';
import type { Timers } from '../core/time.js';

export const EVENT_TYPES = ['PROCESS_TRACEPOINT', 'PROCESS_EXEC', 'PROCESS_EXIT'] as const;
export const EXPORT_ALLOWLIST = JSON.stringify({ event_set: EVENT_TYPES });

export const TETRAGON_HELP = {
  what: 'Tetragon',
  setting: 'ARGOS_TETRAGON_BIN',
  install: 'install Tetragon (https://tetragon.io/docs/installation/package/ puts it in /usr/local/bin)',
  alternatives: 'ARGOS_SOURCE=export (read the export file of a Tetragon run by systemd or a DaemonSet) or ARGOS_SOURCE=bpftrace',
};

/** Splits ARGOS_TETRAGON_ARGS into arguments (whitespace-separated; no shell quoting). */
export function splitArgs(s: string): string[] {
  return s.split(/\s+/).filter((a) => a !== '');
}

export function tetragonArgs(policy: string, exportFile: string, extra: readonly string[]): string[] {
  return ['--tracing-policy', policy, '--export-filename', exportFile, '--export-allowlist', EXPORT_ALLOWLIST, ...extra];
}

export interface ManagedOptions {
  bin: string;
  /** Policy file; default: `policyPath()`. */
  policy?: string;
  policyPath?: () => string;
  exportFile: string;
  extraArgs?: readonly string[];
  readyTimeoutMs: number;
  sink: LineSink;
  logger: Logger;
  counters: Counters;
  timers: Timers;
  backoff?: BackoffOptions;
  stopTimeoutMs?: number;
  /** Says what privilege is missing (default: checks this process's capabilities). */
  privileges?: () => Promise<string | undefined>;
  env?: NodeJS.ProcessEnv;
  /** Export-file poll interval (ms). */
  pollMs?: number;
  maxLine?: number;
  onOversize?: (bytes: number) => void;
}

export class ManagedTetragonSource implements EventSource {
  readonly name = 'managed';
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private readonly tail: ExportFileSource;
  private readonly child: SupervisedChild;
  private readonly abort = new AbortController();
  private markReady: () => void = () => {};
  private readonly ready = new Promise<void>((r) => (this.markReady = r));
  private policy = '';

  constructor(private readonly o: ManagedOptions) {
    this.done = new Promise((r) => (this.resolveDone = r));
    this.tail = new ExportFileSource({
      name: 'managed',
      path: o.exportFile,
      sink: o.sink,
      logger: o.logger,
      counters: o.counters,
      timers: o.timers,
      from: 'end',
      pollMs: o.pollMs,
      maxLine: o.maxLine,
      onOversize: o.onOversize,
      onData: () => this.markReady(),
    });
    this.child = new SupervisedChild({
      name: 'tetragon',
      command: o.bin,
      args: () => tetragonArgs(this.policy, o.exportFile, o.extraArgs ?? []),
      env: o.env,
      help: TETRAGON_HELP,
      logger: o.logger,
      counters: o.counters,
      timers: o.timers,
      backoff: o.backoff,
      stopTimeoutMs: o.stopTimeoutMs,
    });
  }

  /** Tetragon's pid while it runs. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** How many times Tetragon was started. */
  get starts(): number {
    return this.child.starts;
  }

  async start(): Promise<void> {
    const problem = await (this.o.privileges ?? (() => tracingPrivilegeProblem('Tetragon')))();
    if (problem !== undefined) throw new SourceError('permission', problem);
    this.policy = this.o.policy ?? (this.o.policyPath ?? defaultPolicyPath)();
    try {
      await access(this.policy);
    } catch (e) {
      throw new SourceError('missing-file', `tracing policy "${this.policy}" cannot be read: check ARGOS_TETRAGON_POLICY (unset = the shipped config/tetragon/raw-syscalls.yaml)`, { cause: e });
    }
    await mkdir(dirname(this.o.exportFile), { recursive: true });
    if (this.abort.signal.aborted) return;
    await this.tail.start();
    try {
      await this.child.start();
    } catch (e) {
      await this.tail.stop();
      throw e;
    }
    const cancel = new AbortController();
    const inTime = await Promise.race([this.ready.then(() => true), delay(this.o.readyTimeoutMs, this.o.timers, cancel.signal).then(() => false)]);
    cancel.abort();
    if (this.abort.signal.aborted) return;
    if (!inTime) {
      const stderr = this.child.stderrTail();
      await this.stop();
      throw new SourceError(
        'not-ready',
        `Tetragon wrote nothing to ${this.o.exportFile} within ${this.o.readyTimeoutMs} ms: check that it can load its BPF programs (kernel with BTF, /sys/fs/bpf mounted), or raise ARGOS_TETRAGON_READY_TIMEOUT${stderr ? `; its last output: ${stderr}` : ''}`,
      );
    }
    this.o.logger.info({ source: this.name, pid: this.child.pid, exportFile: this.o.exportFile, policy: this.policy }, 'Tetragon is ready');
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.markReady();
    await this.child.stop();
    // Tetragon is gone: read what it wrote last, then stop following the file.
    this.tail.kick();
    await this.tail.stop();
    this.resolveDone();
  }
}
