// `argos run`: the daemon. Builds the pipeline, starts it, tells systemd, and stops it
// gracefully on SIGTERM/SIGINT (a second signal or the deadline forces the exit).
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { CliContext, CommandModule } from '../context.js';
import { addConfigOptions, configFor, redactConfig, type CommonFlags } from '../config-options.js';
import { buildPipeline } from '../../daemon.js';
import { createLogger } from '../../core/logger.js';
import { handleShutdown } from '../../core/shutdown.js';
import { SdNotify } from '../../runtime/sd-notify.js';
import { VERSION } from '../../core/version.js';
import type { Config } from '../../config/load.js';

interface RunFlags extends CommonFlags {
  source?: string;
  db?: string;
  model?: string;
  http?: string;
}

export const command: CommandModule = {
  register(program: Command, ctx: CliContext) {
    addConfigOptions(
      program
        .command('run')
        .description('run the daemon: read Tetragon events, classify every process\'s syscall windows, store and report alerts')
        .option('--source <kind>', 'managed, export, tetra, stdin, replay or bpftrace (ARGOS_SOURCE)')
        .option('--model <dir>', 'model folder (ARGOS_MODEL_DIR)')
        .option('--db <path>', 'SQLite database (ARGOS_DB_PATH)')
        .option('--http <host:port>', 'address of /healthz and /metrics, empty = off (ARGOS_HTTP_ADDRESS)'),
    ).action(async (flags: RunFlags) => {
      const overrides: Partial<Record<keyof Config, string | undefined>> = {
        source: flags.source,
        modelDir: flags.model,
        dbPath: flags.db,
        httpAddress: flags.http,
      };
      const config = configFor(ctx, flags, overrides);
      const log = createLogger(config.logLevel);
      log.info({ version: VERSION, config: redactConfig(config) }, 'starting');
      const sd = new SdNotify({ env: ctx.env, enabled: config.systemdNotify, onError: (state, reason) => log.warn({ state, reason }, 'cannot notify systemd') });
      const pipeline = await buildPipeline({ config, log, stdin: ctx.stdin as Readable });
      const stopAll = async () => {
        sd.stopWatchdog();
        await pipeline.stop();
      };
      let signalled = false;
      const shutdown = handleShutdown({
        target: process,
        log,
        deadlineMs: config.drainTimeout + 10_000,
        stop: stopAll,
        onStopping: () => {
          signalled = true;
          void sd.stopping();
        },
        beforeExit: () => log.flush(),
      });
      try {
        await pipeline.start();
        await sd.ready();
        sd.startWatchdog(() => pipeline.healthy());
        log.info({ source: pipeline.source.name }, 'running');
        // A finite source (stdin, replay) ends the daemon once drained; live sources run until a signal.
        const ended = pipeline.source.done.then(async () => {
          if (signalled) return 0;
          log.info('source ended; draining');
          await pipeline.drain(config.drainTimeout);
          return 0;
        });
        const code = await Promise.race([ended, shutdown.stopped]);
        // A signal ends with 128 + its number, once the stop it started has finished.
        process.exitCode = signalled ? await shutdown.stopped : code;
      } finally {
        await stopAll();
        shutdown.dispose();
      }
    });
  },
};
