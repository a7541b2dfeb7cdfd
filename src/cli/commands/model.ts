// `argos model list | rollback [VERSION] | relearn`: the device's model versions. Rollback and
// relearn are requests the running daemon carries out within seconds (or at its next start).
import type { Command } from 'commander';
import type { CliContext, CommandModule } from '../context.js';
import { addConfigOptions, configFor, type CommonFlags } from '../config-options.js';
import { withDeviceDb, type DeviceDb } from '../device-db.js';
import { UsageError } from '../errors.js';
import { systemClock } from '../../core/time.js';
import { Commands } from '../../learn/commands.js';
import { REQUEST_KEY, type LifecycleRequest } from '../../learn/lifecycle.js';
import type { InstalledModel } from '../../learn/model-store.js';
import { genericModelName } from './status.js';

interface ModelFlags extends CommonFlags {
  json?: boolean;
  db?: string;
}

function notLearning(d: DeviceDb): void {
  if (!d.learning) throw new UsageError('this daemon does not learn the device (ARGOS_LEARNING=off or ARGOS_MODEL_DIR is set): it has no model versions', 1);
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function formatVersions(versions: readonly InstalledModel[], inUse: number | undefined, generic: string): string {
  const head = ['VERSION', 'IN USE', 'CREATED', 'PROGRAMS', 'TRACES', 'NAME'];
  const rows = versions.map((m) => [`v${m.version}`, m.version === inUse ? 'yes' : '', m.card.created.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), String(Object.keys(m.card.programs ?? {}).length), String(m.card.training.traces), m.card.name]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const lines = [head, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : pad(c, widths[i]))).join('  '));
  if (versions.length === 0) lines.splice(0, 1, 'no device model yet: the daemon is learning this device');
  if (inUse === undefined) lines.push(`the generic model ${generic} watches`);
  return `${lines.join('\n')}\n`;
}

export const command: CommandModule = {
  register(program: Command, ctx: CliContext) {
    const model = program.command('model').description('the device\'s model versions: list them, roll back to one, or learn the device afresh');
    addConfigOptions(
      model
        .command('list')
        .description('the installed versions of the device model, and which one watches')
        .option('--json', 'one JSON object per version')
        .option('--db <path>', 'database file (overrides ARGOS_DB_PATH)'),
    ).action(async (flags: ModelFlags) => {
      const config = configFor(ctx, flags, { dbPath: flags.db });
      const generic = await genericModelName(config);
      await withDeviceDb(config, (d) => {
        notLearning(d);
        const versions = d.models.list();
        const inUse = d.models.current()?.version;
        if (flags.json) for (const m of versions) ctx.stdout.write(`${JSON.stringify({ version: m.version, inUse: m.version === inUse, dir: m.dir, card: m.card })}\n`);
        else ctx.stdout.write(formatVersions(versions, inUse, generic));
      });
    });
    addConfigOptions(
      model
        .command('rollback')
        .argument('[version]', 'the version to use (default: the one before the version in use)')
        .description('make an earlier version of the device model the one that watches')
        .option('--db <path>', 'database file (overrides ARGOS_DB_PATH)'),
    ).action(async (version: string | undefined, flags: ModelFlags) => {
      const config = configFor(ctx, flags, { dbPath: flags.db });
      await withDeviceDb(config, (d) => {
        notLearning(d);
        const versions = d.models.list().map((m) => m.version);
        const inUse = d.models.current()?.version;
        let target: number | undefined;
        if (version === undefined) target = versions.filter((v) => inUse === undefined || v < inUse).pop();
        else {
          target = Number(version.replace(/^v/, ''));
          if (!Number.isInteger(target) || !versions.includes(target)) throw new UsageError(`there is no model version ${version} (installed: ${versions.map((v) => `v${v}`).join(', ') || 'none'})`, 1);
        }
        if (target === undefined) throw new UsageError(`no earlier version to roll back to (installed: ${versions.map((v) => `v${v}`).join(', ') || 'none'})`, 1);
        d.models.use(target);
        const request: LifecycleRequest = { kind: 'rollback', version: target };
        d.store.setLifecycle(REQUEST_KEY, request);
        ctx.stdout.write(`v${target} is the model in use from now on (a running daemon swaps it in within seconds); the next training starts from the baseline as usual\n`);
      });
    });
    addConfigOptions(
      model
        .command('relearn')
        .description('forget the device model, the baseline and the allowances, and learn the device afresh (after a new firmware or role)')
        .option('--db <path>', 'database file (overrides ARGOS_DB_PATH)'),
    ).action(async (flags: ModelFlags) => {
      const config = configFor(ctx, flags, { dbPath: flags.db });
      await withDeviceDb(config, async (d) => {
        notLearning(d);
        const result = await new Commands({ store: d.store, node: d.node, clock: systemClock }).run({ id: 'cli', command: 'relearn' });
        ctx.stdout.write(`${result.message ?? ''}\n`);
      });
    });
  },
};
