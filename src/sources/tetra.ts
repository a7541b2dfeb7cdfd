// The tetra source: runs `tetra getevents -o json` against a Tetragon reachable over gRPC
// and reads its stdout. tetra is restarted with capped exponential backoff and jitter when
// it ends (Tetragon restarted, connection lost).
import type { EventSource, LineSink } from '../core/types.js';
import type { Logger } from '../core/logger.js';
import type { Counters } from '../core/counters.js';
import { SupervisedChild } from './child.js';
import { LineSplitter } from './lines.js';
import { EVENT_TYPES } from './managed.js';
import type { BackoffOptions } from '../core/backoff.js';
import type { Timers } from '../core/time.js';

export const TETRA_HELP = {
  what: 'tetra',
  setting: 'ARGOS_TETRA_BIN',
  install: 'install the tetra CLI (it ships with Tetragon; https://tetragon.io/docs/installation/tetra-cli/)',
  alternatives: 'ARGOS_SOURCE=export to read Tetragon\'s export file instead',
};

export function tetraArgs(server: string | undefined): string[] {
  return ['getevents', '-o', 'json', '--event-types', EVENT_TYPES.join(','), ...(server === undefined ? [] : ['--server-address', server])];
}

export interface TetraOptions {
  bin: string;
  server?: string;
  sink: LineSink;
  logger: Logger;
  counters: Counters;
  timers: Timers;
  backoff?: BackoffOptions;
  stopTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  maxLine?: number;
  onOversize?: (bytes: number) => void;
}

export class TetraSource implements EventSource {
  readonly name = 'tetra';
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private readonly child: SupervisedChild;

  constructor(o: TetraOptions) {
    this.done = new Promise((r) => (this.resolveDone = r));
    this.child = new SupervisedChild({
      name: 'tetra',
      command: o.bin,
      args: () => tetraArgs(o.server),
      env: o.env,
      help: TETRA_HELP,
      logger: o.logger,
      counters: o.counters,
      timers: o.timers,
      backoff: o.backoff,
      stopTimeoutMs: o.stopTimeoutMs,
      stderrLevel: 'warn',
      // A fresh splitter per run: a line cut off by a dying tetra is not glued to the next run's first.
      stdout: () => {
        const splitter = new LineSplitter(o.sink, { maxLine: o.maxLine, onOversize: o.onOversize });
        return (chunk) => splitter.push(chunk);
      },
    });
  }

  get starts(): number {
    return this.child.starts;
  }

  start(): Promise<void> {
    return this.child.start();
  }

  async stop(): Promise<void> {
    await this.child.stop();
    this.resolveDone();
  }
}
