// Builds the commander program and turns failures into exit codes and readable messages.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.js';
import { MigrationError } from '../store/migrations.js';
import { EXIT_CONFIG, EXIT_USAGE, UsageError } from './errors.js';
import { COMMANDS } from './commands/index.js';
import type { CliContext } from './context.js';
import { VERSION } from '../core/version.js';

export async function buildProgram(ctx: CliContext): Promise<Command> {
  const program = new Command('argos')
    .description('Argos Edge: host intrusion detection from Tetragon syscall events with a local model.')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    })
    .showHelpAfterError('(run with --help for usage)');
  for (const load of COMMANDS) (await load()).command.register(program, ctx);
  return program;
}

/** Runs `argos ARGS`; resolves to the process exit code. Never throws. */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  let program: Command;
  try {
    program = await buildProgram(ctx);
  } catch (e) {
    ctx.stderr.write(`argos: failed to start: ${(e as Error).message}\n`);
    return 1;
  }
  // Commands report their status through process.exitCode; keep the caller's value.
  const callers = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    return reportError(e, ctx);
  } finally {
    process.exitCode = callers;
  }
}

function reportError(e: unknown, ctx: CliContext): number {
  if (e instanceof CommanderError) {
    // Help and version end with exit code 0; usage errors were already printed by commander.
    return e.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (e instanceof ConfigError) {
    ctx.stderr.write(`argos: ${e.message}\nSee .env.sample for every setting and its default.\n`);
    return EXIT_CONFIG;
  }
  if (e instanceof MigrationError) {
    // Only an operator can fix it: 78 keeps systemd from restarting into the same error.
    ctx.stderr.write(`argos: ${e.message}\n`);
    return EXIT_CONFIG;
  }
  if (e instanceof UsageError) {
    ctx.stderr.write(`argos: ${e.message}\n`);
    return e.exitCode;
  }
  const err = e as Error;
  ctx.stderr.write(`argos: ${err?.message ?? String(e)}\n`);
  if (ctx.env.ARGOS_DEBUG) ctx.stderr.write(`${err?.stack ?? ''}\n`);
  return 1;
}
