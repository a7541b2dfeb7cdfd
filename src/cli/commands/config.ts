// `argos config`: print the effective configuration (secrets hidden); exit 78 if invalid.
import type { Command } from 'commander';
import type { CliContext, CommandModule } from '../context.js';
import { addConfigOptions, configFor, redactConfig, type CommonFlags } from '../config-options.js';
import { SETTINGS } from '../../config/schema.js';

export const command: CommandModule = {
  register(program: Command, ctx: CliContext) {
    addConfigOptions(
      program
        .command('config')
        .description('print the effective configuration (secrets hidden); exits 78 listing every problem if it is invalid')
        .option('--json', 'one JSON object'),
    ).action((flags: CommonFlags & { json?: boolean }) => {
      const config = redactConfig(configFor(ctx, flags));
      if (flags.json) {
        ctx.stdout.write(`${JSON.stringify(config)}\n`);
        return;
      }
      for (const s of SETTINGS) {
        const v = config[s.key];
        ctx.stdout.write(`${s.env[0]}=${v === undefined ? '' : String(v)}\n`);
      }
    });
  },
};
