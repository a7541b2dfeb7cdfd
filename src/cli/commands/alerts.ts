// `argos alerts [--since 1h] [--limit N] [--json]`: list stored alerts, oldest first.
// A table for people (host strings made safe for the terminal); with --json, one alert per
// line, exactly the JSON that MQTT carries.
import type { Command } from 'commander';
import type { CliContext, CommandModule } from '../context.js';
import { addConfigOptions, configFor, type CommonFlags } from '../config-options.js';
import { UsageError } from '../errors.js';
import { parseDuration } from '../../config/units.js';
import type { Alert } from '../../core/alert.js';
import { safeText } from '../../core/sanitize.js';
import { withDeviceDb } from '../device-db.js';
import { systemClock } from '../../core/time.js';
import { SHORT_ID_LENGTH } from '../../learn/commands.js';

interface AlertsFlags extends CommonFlags {
  since?: string;
  limit: string;
  json?: boolean;
  db?: string;
}

/** `--since`: a duration back from now (30m, 2h, 7d) or a date (2025-01-31, ISO 8601). */
export function parseSince(s: string, now: number): number {
  const ms = parseDuration(s);
  if (ms !== undefined) return now - ms;
  const t = Date.parse(s);
  if (!Number.isNaN(t)) return t;
  throw new UsageError(`--since "${s}" is neither a duration (30m, 2h, 7d) nor a date (2025-01-31 or ISO 8601)`);
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** What an alert says beyond its row: why an anomaly scored as it did, why a new program matters. */
export function alertDetail(a: Alert, most = 3): string | undefined {
  if (a.kind === 'new_program') return `new program: ${safeText(a.reason, 200)}`;
  if (a.why.length === 0) return undefined;
  return `why: ${a.why
    .slice(0, most)
    .map((w) => `${safeText(w.calls, 120)} (${w.surprisal.toFixed(1)})`)
    .join(' | ')}`;
}

export function formatAlerts(alerts: readonly Alert[]): string {
  const rows = alerts.map((a) => [
    a.id.slice(-SHORT_ID_LENGTH),
    a.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    a.kind === 'anomaly' ? a.score.toFixed(3) : 'new',
    String(a.count),
    String(a.process.pid),
    a.pod ? safeText(`${a.pod.namespace}/${a.pod.name}`, 48) : '-',
    safeText(a.process.binary, 80),
  ]);
  const head = ['ID', 'TIME', 'SCORE', 'COUNT', 'PID', 'POD', 'BINARY'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const lines = [head.map((c, i) => (i === head.length - 1 ? c : pad(c, widths[i]))).join('  ')];
  rows.forEach((r, k) => {
    lines.push(r.map((c, i) => (i === r.length - 1 ? c : pad(c, widths[i]))).join('  '));
    const detail = alertDetail(alerts[k]);
    if (detail !== undefined) lines.push(`    ${detail}`);
  });
  return `${lines.join('\n')}\n`;
}

export const command: CommandModule = {
  register(program: Command, ctx: CliContext) {
    addConfigOptions(
      program
        .command('alerts')
        .description('list stored alerts, oldest first (the database is ARGOS_DB_PATH)')
        .option('--since <when>', 'only alerts from this time on: a duration back from now (30m, 1h, 7d) or a date')
        .option('--limit <n>', 'the most recent N alerts at most', '100')
        .option('--json', 'one JSON object per line, as published over MQTT')
        .option('--db <path>', 'database file (overrides ARGOS_DB_PATH)'),
    ).action(async (flags: AlertsFlags) => {
      const config = configFor(ctx, flags, { dbPath: flags.db });
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit "${flags.limit}" must be a whole number of at least 1`);
      const since = flags.since === undefined ? 0 : parseSince(flags.since, systemClock.now());
      await withDeviceDb(config, ({ store }) => {
        const alerts = store.listAlerts(since, limit).reverse();
        if (flags.json) {
          for (const a of alerts) ctx.stdout.write(`${JSON.stringify(a)}\n`);
          return;
        }
        if (alerts.length > 0) ctx.stdout.write(formatAlerts(alerts));
        const pending = store.outboxDepth();
        const when = flags.since === undefined ? '' : ` since ${new Date(since).toISOString()}`;
        ctx.stdout.write(`${alerts.length} alert${alerts.length === 1 ? '' : 's'}${when}${alerts.length === limit ? ` (limit ${limit}; more may exist)` : ''}; ${pending} message${pending === 1 ? '' : 's'} waiting for delivery\n`);
      });
    });
  },
};
