// Every subcommand of `argos`, in the order `--help` lists them.
// Each module exports `command: CommandModule`; add a line here for a new command.
import type { CommandModule } from '../context.js';

type Loader = () => Promise<{ command: CommandModule }>;

export const COMMANDS: readonly Loader[] = [
  () => import('./run.js'),
  () => import('./replay.js'),
  () => import('./learn.js'),
  () => import('./config.js'),
  () => import('./train.js'),
  () => import('./evaluate.js'),
  () => import('./alerts.js'),
  () => import('./status.js'),
  () => import('./allow.js'),
  () => import('./model.js'),
  () => import('./hub.js'),
  () => import('./doctor.js'),
];
