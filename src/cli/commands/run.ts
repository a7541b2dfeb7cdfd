// `argos run`: the daemon. Builds the pipeline, starts it, tells systemd, and stops it
// gracefully on SIGTERM/SIGINT (a second signal or the deadline forces the exit).
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { CliContext, CommandModule } from '../context.js';
import { addConfigOptions, configFor, redactConfig, type CommonFlags } from '../config-options.js';
import { buildPipeline } from '../../daemon/index.js';
import { createLogger } from '../../core/logger.js';
import { supervise } from '../supervise.js';
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
      let signalled = false;
      const stopAll = async (): Promise<void> => {
        sd.stopWatchdog();
        await pipeline.stop();
      };
      const code = await supervise({
        log,
        deadlineMs: config.drainTimeout + 10_000,
        onSignal: stopAll,
        cleanup: stopAll,
        onStopping: () => {
          signalled = true;
          void sd.stopping();
        },
        beforeExit: () => log.flush(),
        work: async () => {
          await pipeline.start();
          await sd.ready();
          sd.startWatchdog(() => pipeline.healthy());
          log.info({ source: pipeline.source.name }, 'running');
          // A finite source (stdin, replay) ends the daemon once drained; live sources run until a signal.
          await pipeline.source.done;
          if (signalled) return;
          log.info('source ended; draining');
          await pipeline.drain(config.drainTimeout);
        },
      });
      // A signal ends with 128 + its number, once the stop it started has finished.
      process.exitCode = code ?? 0;
    });
  },
};
