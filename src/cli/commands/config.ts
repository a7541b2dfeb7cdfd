// `argos config`: print the effective configuration (secrets hidden); exit 78 if invalid.
// The text form is a settings file: durations and sizes carry their units and values are quoted
// where needed, so `argos config > f; argos config --env-file f` prints the same settings.
import type { Command } from 'commander';
import type { CliContext, CommandModule } from '../context.js';
import { addConfigOptions, configFor, redactConfig, type CommonFlags } from '../config-options.js';
import { SETTINGS, unitOf } from '../../config/schema.js';
import { formatBytes, formatDuration } from '../../config/units.js';

/** One value as a `.env` file holds it. */
export function envValue(key: Parameters<typeof unitOf>[0], v: unknown): string {
  if (v === undefined) return '';
  const unit = unitOf(key);
  if (typeof v === 'number' && unit === 'duration') return formatDuration(v);
  if (typeof v === 'number' && unit === 'size') return formatBytes(v);
  const s = String(v);
  // dotenv: unquoted values are trimmed and end at " #"; single quotes keep text as it is.
  if (!/[\s#'"`\\]/.test(s)) return s;
  if (!s.includes("'") && !/[\r\n]/.test(s)) return `'${s}'`;
  return `"${s.replace(/\r?\n/g, '\\n').replace(/"/g, '\\"')}"`;
}

export const command: CommandModule = {
  register(program: Command, ctx: CliContext) {
    addConfigOptions(
      program
        .command('config')
        .description('print the effective configuration as a settings file (secrets hidden); exits 78 listing every problem if it is invalid')
        .option('--json', 'one JSON object (durations in milliseconds, sizes in bytes)'),
    ).action((flags: CommonFlags & { json?: boolean }) => {
      const config = redactConfig(configFor(ctx, flags));
      if (flags.json) {
        ctx.stdout.write(`${JSON.stringify(config)}\n`);
        return;
      }
      for (const s of SETTINGS) ctx.stdout.write(`${s.env[0]}=${envValue(s.key, config[s.key])}\n`);
    });
  },
};
