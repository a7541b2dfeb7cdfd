// `argos learn`: record this device's normal behaviour into the database, for `argos train`.
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { CliContext, CommandModule } from '../context.js';
import { addConfigOptions, configFor, type CommonFlags } from '../config-options.js';
import { createLogger } from '../../core/logger.js';
import { Counters } from '../../core/counters.js';
import { LifecycleGroup } from '../../core/lifecycle.js';
import { handleShutdown } from '../../core/shutdown.js';
import { systemClock } from '../../core/types.js';
import { Parser } from '../../parser/index.js';
import { SqliteStore } from '../../store/store.js';
import { configuredSource } from '../../daemon.js';
import { systemTimers, delay } from '../../sources/backoff.js';
import { BaselineRecorder, fullVocabulary } from '../../learn/recorder.js';

interface LearnFlags extends CommonFlags {
  duration?: string;
  source?: string;
  db?: string;
  clear?: boolean;
  json?: boolean;
}

export const command: CommandModule = {
  register(program: Command, ctx: CliContext) {
    addConfigOptions(
      program
        .command('learn')
        .description('record this device\'s normal behaviour (every process\'s syscalls) into the database, for "argos train --baseline"')
        .option('--duration <time>', 'how long to record, e.g. 30m, 24h (ARGOS_LEARN_DURATION)')
        .option('--source <kind>', 'managed, export, tetra, stdin, replay or bpftrace (ARGOS_SOURCE)')
        .option('--db <path>', 'SQLite database (ARGOS_DB_PATH)')
        .option('--clear', 'forget the previously recorded baseline first')
        .option('--json', 'print one summary object'),
    ).action(async (flags: LearnFlags) => {
      const config = configFor(ctx, flags, { learnDuration: flags.duration, source: flags.source, dbPath: flags.db });
      const log = createLogger(config.logLevel);
      const counters = new Counters();
      const store = new SqliteStore({ path: config.dbPath });
      const { tokenizer, names } = fullVocabulary();
      const recorder = new BaselineRecorder({ store, names, counters, log: log.child({ module: 'learn' }), clock: systemClock });
      const parser = new Parser({ handler: recorder, tokenizer, counters, log: log.child({ module: 'parser' }) });
      const source = configuredSource(config, { sink: parser, log, counters, clock: systemClock, stdin: ctx.stdin as Readable });
      const group = new LifecycleGroup(
        [
          { name: 'store', part: store },
          { name: 'source', part: source },
        ],
        log,
      );
      const stopTimer = new AbortController();
      const shutdown = handleShutdown({
        target: process,
        log,
        deadlineMs: 15_000,
        stop: async () => stopTimer.abort(),
      });
      try {
        await group.start();
        if (flags.clear) log.info({ removed: store.clearBaseline() }, 'previous baseline cleared');
        log.info({ durationMs: config.learnDuration, source: source.name }, 'recording normal behaviour');
        await Promise.race([delay(config.learnDuration, systemTimers, stopTimer.signal), source.done]);
        await source.stop();
        recorder.flush();
        const stats = store.baselineStats();
        if (flags.json) ctx.stdout.write(`${JSON.stringify({ recorded: recorder.written, events: counters.events, baseline: stats })}\n`);
        else ctx.stdout.write(`recorded ${recorder.written} processes (${counters.syscalls} syscalls); the baseline now holds ${stats.traces} traces of ${stats.binaries} binaries, ${stats.syscalls} syscalls\nnext: argos train --baseline --db ${config.dbPath} --out DIR\n`);
      } finally {
        stopTimer.abort();
        await group.stop();
        shutdown.dispose();
      }
    });
  },
};
