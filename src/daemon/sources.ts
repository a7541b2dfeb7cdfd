// The configured event source: which source class, with which settings. Every source
// delivers one Tetragon JSON line at a time to `sink`; live sources (managed, export, tetra,
// bpftrace) restart or reopen by themselves and only stop when told; finite ones (stdin,
// replay) resolve `done` at the end.
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import type { Config } from '../config/load.js';
import type { BackoffOptions } from '../core/backoff.js';
import type { Counters } from '../core/counters.js';
import { RateLimitedLog, type Logger } from '../core/logger.js';
import type { Clock, Timers } from '../core/time.js';
import type { EventSource, LineSink } from '../core/types.js';
import { BpftraceSource, createReplaySource, createStdinSource, DEFAULT_MAX_LINE, ExportFileSource, ManagedTetragonSource, parseSpeed, splitArgs, TetraSource } from '../sources/index.js';

export interface SourceDeps {
  sink: LineSink;
  logger: Logger;
  counters: Counters;
  clock: Clock;
  timers: Timers;
  stdin: Readable;
  /** Restart backoff of live sources (default: 1 s doubling up to 60 s, half of it jitter). */
  backoff?: BackoffOptions;
  /** Finds the shipped Tetragon policy when ARGOS_TETRAGON_POLICY is unset (the compiled binary passes its own). */
  policyPath?: () => string;
  /** How long a child program may take to end after SIGTERM before SIGKILL (ms, default 5000). */
  stopTimeoutMs?: number;
  /** Node name in exec ids made by the bpftrace source (default: config, else the hostname). */
  nodeName?: string;
}

export function createSource(config: Config, deps: SourceDeps): EventSource {
  const { sink, logger, counters, clock, timers } = deps;
  const log = logger.child({ module: 'source' });
  const tooLong = new RateLimitedLog(log, 5, 60_000, clock);
  const onOversize = (bytes: number): void => {
    counters.malformed++;
    tooLong.warn({ bytes, limit: DEFAULT_MAX_LINE }, 'event line longer than the limit skipped');
  };
  const live = { sink, logger: log, counters, timers, backoff: deps.backoff, stopTimeoutMs: deps.stopTimeoutMs };
  switch (config.source) {
    case 'managed':
      return new ManagedTetragonSource({
        ...live,
        bin: config.tetragonBin,
        policy: config.tetragonPolicy,
        policyPath: deps.policyPath,
        exportFile: config.tetragonExportFile,
        extraArgs: splitArgs(config.tetragonArgs),
        readyTimeoutMs: config.tetragonReadyTimeout,
        onOversize,
      });
    case 'export':
      return new ExportFileSource({ sink, logger: log, counters, timers, path: config.exportFile, onOversize });
    case 'tetra':
      return new TetraSource({ ...live, bin: config.tetraBin, server: config.tetraServer, onOversize });
    case 'bpftrace':
      return new BpftraceSource({
        ...live,
        bin: config.bpftraceBin,
        ...(config.bpftraceRootPid === undefined ? {} : { descendantsOf: config.bpftraceRootPid }),
        node: deps.nodeName ?? config.nodeName ?? hostname(),
        clock,
        readyTimeoutMs: config.tetragonReadyTimeout,
      });
    case 'stdin':
      return createStdinSource({ sink, logger: log, clock, timers, stdin: deps.stdin, onOversize });
    case 'replay':
      return createReplaySource({
        sink,
        logger: log,
        clock,
        timers,
        stdin: deps.stdin,
        file: config.replayFile ?? '-',
        speed: parseSpeed(config.replaySpeed),
        onOversize,
      });
  }
}
