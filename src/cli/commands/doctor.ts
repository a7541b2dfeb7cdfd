// `argos doctor [--json]`: what this host needs for Argos to run, and what to fix.
import type { Command } from 'commander';
import type { CliContext, CommandModule } from '../context.js';
import { addConfigOptions, configFor, type CommonFlags } from '../config-options.js';
import { doctorExitCode, formatDoctor, runDoctor } from '../../doctor/index.js';

export const command: CommandModule = {
  register(program: Command, ctx: CliContext) {
    addConfigOptions(
      program
        .command('doctor')
        .description('check Tetragon, privileges, tracefs/BPF, the model, the database, the broker and ntfy, and say what to fix; exits 1 when something needed is broken')
        .option('--json', 'one JSON object: { ok, checks: [{ name, status, detail, fix }] }')
        .option('--timeout <ms>', 'bound on each network and program check', '5000'),
    ).action(async (flags: CommonFlags & { json?: boolean; timeout: string }) => {
      const config = configFor(ctx, flags);
      const timeoutMs = Math.max(100, Number(flags.timeout) || 5000);
      const checks = await runDoctor(config, { env: ctx.env, timeoutMs });
      const code = doctorExitCode(checks);
      if (flags.json) ctx.stdout.write(`${JSON.stringify({ ok: code === 0, checks })}\n`);
      else ctx.stdout.write(formatDoctor(checks));
      process.exitCode = code;
    });
  },
};
