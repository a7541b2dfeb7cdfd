// `argos status [--json]`: the daemon's learning state as it last saved it (learning, training
// or detecting; the model in use; how far learning is; the last training and why a model was
// refused). With --json, the same object MQTT retains on `<prefix>/<node>/state`.
import type { Command } from 'commander';
import type { CliContext, CommandModule } from '../context.js';
import { addConfigOptions, configFor, type CommonFlags } from '../config-options.js';
import { withDeviceDb } from '../device-db.js';
import type { StatePayload } from '../../core/mqtt.js';
import { systemClock } from '../../core/time.js';
import { formatDuration } from '../../config/units.js';
import { LEARNING_THRESHOLD_FACTOR } from '../../daemon/models.js';
import { savedStatus, type SavedStatus } from '../../learn/status.js';
import { loadModel } from '../../model/folder.js';
import type { Config } from '../../config/load.js';

interface StatusFlags extends CommonFlags {
  json?: boolean;
  db?: string;
}

function when(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The last training in one line. */
export function trainingLine(t: NonNullable<StatePayload['lastTraining']>): string {
  const figures = [t.traces === undefined ? '' : plural(t.traces, 'trace'), t.programs === undefined ? '' : plural(t.programs, 'program'), t.heldOutFpr === undefined ? '' : `${(t.heldOutFpr * 100).toFixed(1)}% of held-out normal traces flagged`, t.seconds === undefined ? '' : `${t.seconds} s`]
    .filter((s) => s !== '')
    .join(', ');
  return `last training ${when(t.time)}: ${t.ok ? `installed v${t.version ?? '?'}` : `refused: ${t.reason ?? 'unknown'}`}${figures === '' ? '' : ` (${figures})`}`;
}

export function formatStatus(s: SavedStatus, config: Pick<Config, 'learnPeriod' | 'retrainInterval'>, learning: boolean): string {
  const st = s.state;
  const lines: string[] = [];
  if (st.model.version === 0) {
    const how = learning ? ` watches at ${LEARNING_THRESHOLD_FACTOR}× its threshold while the device is learnt` : ' watches (learning is off)';
    lines.push(`${st.node}: ${st.state}; the generic model ${st.model.name}${how}`);
  } else {
    lines.push(`${st.node}: ${st.state} with model v${st.model.version} (${st.model.name}, ${plural(st.programs, 'program')})`);
  }
  const l = st.learning;
  if (l !== undefined) {
    lines.push(`  learning since ${when(l.since)}: ${Math.round(l.progress * 100)}% of ${formatDuration(config.learnPeriod)} running time; ${l.ready} of ${plural(l.programs, 'active program')} ready; ${plural(l.traces, 'trace')} in the baseline`);
  }
  if (st.lastTraining !== undefined) lines.push(`  ${trainingLine(st.lastTraining)}`);
  if (st.state === 'detecting' && learning) lines.push(`  trains again after every ${formatDuration(config.retrainInterval)} of running time`);
  if (s.allowances > 0 || s.quarantined > 0) {
    lines.push(`  ${plural(s.allowances, 'allowance')} until the next training; ${plural(s.quarantined, 'trace')} held back from the baseline (their processes alerted; argos allow adds them)`);
  }
  lines.push(s.savedAt === undefined ? '  the daemon has not run on this database yet' : `  as the daemon saved it at ${when(s.savedAt)}`);
  return `${lines.join('\n')}\n`;
}

/** The name of the model that watches without a device version (the configured or shipped one). */
export async function genericModelName(config: Config): Promise<string> {
  try {
    return (await loadModel({ dir: config.modelDir, modelPath: config.modelPath, mappingPath: config.mappingPath })).card.name;
  } catch {
    return 'generic';
  }
}

export const command: CommandModule = {
  register(program: Command, ctx: CliContext) {
    addConfigOptions(
      program
        .command('status')
        .description('the daemon\'s state: learning, training or detecting, the model in use, the last training (from the database)')
        .option('--json', 'the state as JSON, as retained on MQTT <prefix>/<node>/state')
        .option('--db <path>', 'database file (overrides ARGOS_DB_PATH)'),
    ).action(async (flags: StatusFlags) => {
      const config = configFor(ctx, flags, { dbPath: flags.db });
      const genericName = await genericModelName(config);
      await withDeviceDb(config, ({ store, models, node, learning }) => {
        const s = savedStatus({ store, models, node, now: systemClock.now(), learnPeriodMs: config.learnPeriod, learning, genericName });
        ctx.stdout.write(flags.json ? `${JSON.stringify(s.state)}\n` : formatStatus(s, config, learning));
      });
    });
  },
};
