// `argos hub`: the fleet hub. Ingests every node's status, alerts, stats, state and command
// results over an MQTT 5 shared subscription, stores them (PostgreSQL or SQLite), serves the
// REST API and the dashboard, and sends operators' commands to nodes. Runs until SIGTERM/SIGINT.
import type { Command } from 'commander';
import type { CliContext, CommandModule } from '../context.js';
import { addConfigOptions, configFor, redactConfig, type CommonFlags } from '../config-options.js';
import { buildHub, HUB_REQUIRED } from '../../hub/index.js';
import { createLogger } from '../../core/logger.js';
import { supervise } from '../supervise.js';
import { VERSION } from '../../core/version.js';
import type { Config } from '../../config/load.js';

interface HubFlags extends CommonFlags {
  http?: string;
  database?: string;
  group?: string;
}

export const command: CommandModule = {
  register(program: Command, ctx: CliContext) {
    addConfigOptions(
      program
        .command('hub')
        .description('run the fleet hub: ingest every node\'s MQTT messages, store them, serve the REST API and the dashboard, send commands to nodes')
        .option('--http <host:port>', 'address of the API and the dashboard (ARGOS_HUB_HTTP)')
        .option('--database <url>', 'postgres://... or an SQLite file (ARGOS_HUB_DATABASE_URL)')
        .option('--group <name>', 'MQTT shared-subscription group (ARGOS_HUB_GROUP)'),
    ).action(async (flags: HubFlags) => {
      const overrides: Partial<Record<keyof Config, string | undefined>> = { hubHttp: flags.http, hubDatabaseUrl: flags.database, hubGroup: flags.group };
      const config = configFor(ctx, flags, overrides, HUB_REQUIRED);
      const log = createLogger(config.logLevel);
      const hub = buildHub({ config, log });
      log.info({ version: VERSION, config: redactConfig(config) }, 'starting the hub');
      const code = await supervise({
        log,
        deadlineMs: config.drainTimeout + 10_000,
        onSignal: () => hub.stop(),
        cleanup: () => hub.stop(),
        beforeExit: () => log.flush(),
        work: async () => {
          await hub.start();
          const a = hub.http.address();
          log.info({ http: a ? `${a.host}:${a.port}` : undefined, database: hub.store.db.where }, 'hub running');
          // Runs until a signal.
          await new Promise<void>(() => undefined);
        },
      });
      process.exitCode = code ?? 0;
    });
  },
};
