// `argos learn`: record this device's normal behaviour into the database, for `argos train`.
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { CliContext, CommandModule } from '../context.js';
import { addConfigOptions, configFor, type CommonFlags } from '../config-options.js';
import { createLogger } from '../../core/logger.js';
import { delay } from '../../core/backoff.js';
import { systemTimers } from '../../core/time.js';
import { buildLearner } from '../../daemon/index.js';
import { supervise } from '../supervise.js';

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
      const { counters, store, recorder, source, group } = buildLearner(config, { log, stdin: ctx.stdin as Readable });
      // A signal ends the recording early; what was recorded is kept.
      const endEarly = new AbortController();
      await supervise({
        log,
        deadlineMs: 15_000,
        onSignal: async () => endEarly.abort(),
        finishWork: true,
        cleanup: () => group.stop(),
        work: async () => {
          await group.start();
          if (flags.clear) log.info({ removed: store.clearBaseline() }, 'previous baseline cleared');
          log.info({ durationMs: config.learnDuration, source: source.name }, 'recording normal behaviour');
          await Promise.race([delay(config.learnDuration, systemTimers, endEarly.signal), source.done]);
          endEarly.abort();
          await source.stop();
          recorder.flush();
          recorder.stop();
          const stats = store.baselineStats();
          if (flags.json) ctx.stdout.write(`${JSON.stringify({ recorded: recorder.written, events: counters.events, baseline: stats })}\n`);
          else ctx.stdout.write(`recorded ${recorder.written} processes (${counters.syscalls} syscalls); the baseline now holds ${stats.traces} traces of ${stats.binaries} binaries, ${stats.syscalls} syscalls\nnext: argos train --baseline --db ${config.dbPath} --out DIR\n`);
        },
      });
    });
  },
};
