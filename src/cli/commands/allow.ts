// `argos allow ALERT_ID` / `argos allow --program PATH`: an operator says an alert (or a
// program) is normal on this device. Until the next training it is not alerted; what was held
// back from the baseline because of it joins the baseline, so the next model learns it. A
// running daemon picks the change up within seconds.
import type { Command } from 'commander';
import type { CliContext, CommandModule } from '../context.js';
import { addConfigOptions, configFor, type CommonFlags } from '../config-options.js';
import { withDeviceDb } from '../device-db.js';
import { UsageError } from '../errors.js';
import { systemClock } from '../../core/time.js';
import { Commands } from '../../learn/commands.js';

interface AllowFlags extends CommonFlags {
  program?: string;
  json?: boolean;
  db?: string;
}

export const command: CommandModule = {
  register(program: Command, ctx: CliContext) {
    addConfigOptions(
      program
        .command('allow')
        .argument('[alert]', 'the alert\'s id, as argos alerts shows it (its end is enough)')
        .description('mark an alert, or a whole program, as normal on this device: not alerted until the next training, which learns it')
        .option('--program <path>', 'allow a whole program (its binary path, or image:binary in a pod) instead of one alert')
        .option('--json', 'print the result as JSON, as MQTT cmd/result carries it')
        .option('--db <path>', 'database file (overrides ARGOS_DB_PATH)'),
    ).action(async (alert: string | undefined, flags: AllowFlags) => {
      if ((alert === undefined) === (flags.program === undefined)) throw new UsageError('give an alert id (argos alerts lists them) or --program PATH, not both');
      const config = configFor(ctx, flags, { dbPath: flags.db });
      const result = await withDeviceDb(config, ({ store, node }) => {
        const commands = new Commands({ store, node, clock: systemClock, maxBaselineCalls: config.baselineSize });
        return commands.run(alert === undefined ? { id: 'cli', command: 'allow', program: flags.program as string } : { id: 'cli', command: 'allow', alert });
      });
      if (flags.json) ctx.stdout.write(`${JSON.stringify(result)}\n`);
      else if (result.ok) ctx.stdout.write(`${result.message ?? 'allowed'}\n`);
      if (!result.ok) throw new UsageError(result.error ?? 'the allowance was refused', 1);
    });
  },
};
