// Configuration: `.env` < environment < command-line flags, validated once, all errors at once.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parse as parseDotenv } from 'dotenv';
import { configSchema, SETTINGS, type Config } from './schema.js';

export type { Config };

/** Raised with every problem found; `problems` are readable lines naming the variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface ConfigSources {
  /** Process environment (usually `process.env`). */
  env: Readonly<Record<string, string | undefined>>;
  /** Path of a `.env` file; a missing file is fine, an unreadable one is an error. */
  envFile?: string;
  /** Values from command-line flags, by config key; undefined entries are ignored. */
  flags?: Partial<Record<keyof Config, string | number | boolean | undefined>>;
  /** Settings this command cannot run without, with why (reported with every other problem). */
  required?: Partial<Record<keyof Config, string>>;
}

function readEnvFile(path: string, problems: string[]): Record<string, string> {
  try {
    return parseDotenv(readFileSync(path));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return {};
    problems.push(`${path}: cannot read the env file (${err.code ?? err.message}); fix its permissions or remove it`);
    return {};
  }
}

/** Builds and validates the configuration. Throws ConfigError listing every problem. */
export function loadConfig(sources: ConfigSources): Config {
  const problems: string[] = [];
  const fromFile = sources.envFile ? readEnvFile(sources.envFile, problems) : {};
  const raw: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const s of SETTINGS) {
    for (const name of [...s.env].reverse()) {
      // Preferred name wins over aliases; environment wins over the file.
      const v = sources.env[name] ?? fromFile[name];
      if (v !== undefined && (v !== '' || s.emptyIsValue)) {
        raw[s.key] = v;
        origin[s.key] = name;
      }
    }
    const flag = sources.flags?.[s.key];
    if (flag !== undefined) {
      raw[s.key] = typeof flag === 'string' ? flag : String(flag);
      origin[s.key] = `--${s.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    }
  }
  for (const [key, why] of Object.entries(sources.required ?? {})) {
    if (raw[key] === undefined) problems.push(`${SETTINGS.find((s) => s.key === key)?.env[0] ?? key}: is required ${why}`);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = String(issue.path[0] ?? '');
      const setting = SETTINGS.find((s) => s.key === key);
      const name = origin[key] ?? setting?.env[0] ?? key;
      const given = raw[key] !== undefined && !setting?.secret ? ` (got "${String(raw[key])}")` : '';
      problems.push(`${name}: ${issue.message}${given}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  const config = result.data;
  config.nodeName ??= hostname();
  return config;
}
