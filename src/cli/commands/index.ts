// Every subcommand of `argos`, in the order `--help` lists them.
// Each module exports `register(program, ctx)`; add a line here for a new command.
import type { CommandModule } from '../context.js';

export const COMMANDS: readonly (() => Promise<CommandModule>)[] = [];
