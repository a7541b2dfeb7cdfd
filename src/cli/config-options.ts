// What every command that needs the configuration shares: `--env-file`, `--log-level`,
// and turning flags into config overrides.
import { join, isAbsolute } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config/load.js';
import type { CliContext } from './context.js';
import { redactUrlCredentials } from '../core/sanitize.js';

export interface CommonFlags {
  envFile?: string;
  logLevel?: string;
}

export function addConfigOptions(cmd: Command): Command {
  return cmd
    .option('--env-file <path>', 'settings file to read before the environment', '.env')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (ARGOS_LOG_LEVEL)');
}

/** Loads the configuration for a command; `overrides` are its flags by config key, `required` what it cannot run without. */
export function configFor(
  ctx: CliContext,
  flags: CommonFlags,
  overrides: Partial<Record<keyof Config, string | number | boolean | undefined>> = {},
  required?: Partial<Record<keyof Config, string>>,
): Config {
  const envFile = flags.envFile ?? '.env';
  return loadConfig({
    env: ctx.env,
    envFile: isAbsolute(envFile) ? envFile : join(ctx.cwd, envFile),
    flags: { logLevel: flags.logLevel, ...overrides },
    required,
  });
}

const SECRET_KEYS: readonly (keyof Config)[] = ['mqttPassword', 'ntfyToken', 'hubToken', 'hubReadToken'];

/** A URL with its password replaced (database and broker URLs may carry credentials). */
export const redactUrl = redactUrlCredentials;

/** The configuration with secrets replaced (also credentials inside URLs), for printing and logging. */
export function redactConfig(c: Config): Record<string, unknown> {
  const out: Record<string, unknown> = { ...c };
  for (const [k, v] of Object.entries(out)) if (typeof v === 'string') out[k] = redactUrlCredentials(v);
  for (const k of SECRET_KEYS) if (out[k] !== undefined) out[k] = '[redacted]';
  return out;
}
