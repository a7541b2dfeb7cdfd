// `argos train`: build a model folder (model.onnx, syscalls.csv, model.json) from normal traces.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliContext, CommandModule } from '../context.js';
import { progressReporter } from '../progress.js';
import { asUsageError, numberFlag } from './model-flags.js';
import { parseAbi } from '../../model/traces.js';
import { train, TRAIN_DEFAULTS } from '../../model/train.js';
import { readBaseline } from '../../learn/baseline.js';
import { configFor } from '../config-options.js';
import { UsageError } from '../errors.js';
import { FAMILIES } from '../../model/families/index.js';
import { programBy } from './evaluate.js';
import { openInlineClassifier } from '../../detector/onnx-classifier.js';

interface TrainFlags {
  programBy?: string;
  programs: boolean;
  minProgramCalls?: string;
  data?: string;
  baseline?: boolean;
  db?: string;
  out: string;
  abi?: string;
  family: string;
  order?: string;
  hidden?: string;
  epochs?: string;
  members?: string;
  window: string;
  delta: string;
  minWindow?: string;
  seed: string;
  targetFpr: string;
  folds: string;
  jobs: string;
  name?: string;
  json?: boolean;
  progress: boolean;
}

export const command: CommandModule = {
  register(program: Command, ctx: CliContext) {
    program
      .command('train')
      .description('train a model folder from normal syscall traces (ADFA-LD layout, trace files of numbers or names, or Tetragon recordings)')
      .option('--data <path>', 'folder of trace files (read recursively), a trace file, or a Tetragon JSON-lines recording')
      .option('--baseline', 'train on the normal behaviour recorded on this device by "argos learn" (instead of --data)')
      .option('--db <path>', 'database holding the baseline (default: ARGOS_DB_PATH)')
      .requiredOption('--out <dir>', 'model folder to write (model.onnx, syscalls.csv, model.json)')
      .option('--abi <abi>', 'ABI of numeric syscalls: i386 (ADFA-LD), x86_64, arm64, arm32')
      .option('--program-by <how>', 'folder: a trace file\'s first-level folder names its program (recordings and the baseline name programs themselves)')
      .option('--no-programs', 'one profile for all programs, even when the data names them')
      .option('--min-program-calls <n>', `calls a program needs for a profile of its own (default ${TRAIN_DEFAULTS.minProgramCalls})`)
      .option('--family <name>', `model family: ${FAMILIES.map((f) => `${f.name} (${f.description})`).join('; ')}`, TRAIN_DEFAULTS.family)
      .option('--order <n>', 'n-gram order (ngram: 6, stide: 6)')
      .option('--hidden <n>', 'gru: state width (default 64)')
      .option('--epochs <n>', 'gru: passes over the training data (default 12)')
      .option('--members <list>', 'ensemble: its members as family:size, comma-separated (size = order or state width), e.g. gru:64,ngram:5')
      .option('--window <n>', 'syscalls per window', String(TRAIN_DEFAULTS.window))
      .option('--delta <n>', 'new syscalls between two windows of a process', String(TRAIN_DEFAULTS.delta))
      .option('--min-window <n>', `shortest partial window the daemon scores at process exit (default: ${TRAIN_DEFAULTS.minWindow}, at most the window)`)
      .option('--seed <n>', 'seed of the calibration folds', String(TRAIN_DEFAULTS.seed))
      .option('--target-fpr <rate>', 'share of held-out normal processes allowed to raise an alert; sets the threshold', String(TRAIN_DEFAULTS.targetFpr))
      .option('--folds <n>', 'cross-fitting folds for the threshold calibration', String(TRAIN_DEFAULTS.folds))
      .option('--jobs <n>', 'calibration folds trained at once, each in a worker thread (the final model trains meanwhile); the model is the same', '1')
      .option('--name <name>', 'model name in the card (default: <family>-<window>)')
      .option('--json', 'print the model card as one JSON object')
      .option('--no-progress', 'no progress bar or progress lines')
      .action(async (flags: TrainFlags) => {
        if ((flags.data === undefined) === (flags.baseline !== true)) throw new UsageError('give either --data PATH or --baseline (the behaviour "argos learn" recorded), not both and not neither');
        const progress = progressReporter(ctx, flags.progress);
        try {
          const data = flags.data !== undefined ? resolve(ctx.cwd, flags.data) : await readBaseline(resolve(ctx.cwd, flags.db ?? configFor(ctx, {}).dbPath));
          const result = await train({
            data,
            ...(flags.data === undefined ? {} : { dataLabel: flags.data }),
            out: resolve(ctx.cwd, flags.out),
            ...(flags.abi === undefined ? {} : { abi: parseAbi(flags.abi) }),
            ...(flags.programBy === undefined ? {} : { programBy: programBy(flags.programBy) }),
            programs: flags.programs,
            ...(flags.minProgramCalls === undefined ? {} : { minProgramCalls: numberFlag('--min-program-calls', flags.minProgramCalls) }),
            family: flags.family,
            ...(flags.order === undefined ? {} : { order: numberFlag('--order', flags.order) }),
            ...(flags.hidden === undefined ? {} : { hidden: numberFlag('--hidden', flags.hidden) }),
            ...(flags.epochs === undefined ? {} : { epochs: numberFlag('--epochs', flags.epochs) }),
            ...(flags.members === undefined ? {} : { members: flags.members }),
            window: numberFlag('--window', flags.window),
            delta: numberFlag('--delta', flags.delta),
            ...(flags.minWindow === undefined ? {} : { minWindow: numberFlag('--min-window', flags.minWindow) }),
            seed: numberFlag('--seed', flags.seed),
            targetFpr: numberFlag('--target-fpr', flags.targetFpr),
            folds: numberFlag('--folds', flags.folds),
            jobs: numberFlag('--jobs', flags.jobs),
            ...(flags.name === undefined ? {} : { name: flags.name }),
            progress: (p, d, t) => progress.update(p, d, t),
            openClassifier: openInlineClassifier,
          });
          progress.stop();
          const c = result.card;
          if (flags.json) {
            ctx.stdout.write(`${JSON.stringify(c)}\n`);
            return;
          }
          ctx.stdout.write(
            `wrote ${result.dir}: ${c.family} model, window ${c.window}, delta ${c.delta}, vocabulary ${c.vocabulary}, threshold ${c.threshold.toPrecision(6)} ` +
              `(${(c.metrics.heldOutFpr * 100).toFixed(1)}% of ${c.training.traces} held-out normal traces flagged), ${c.training.syscalls} syscalls, ${c.metrics.trainSeconds}s\n`,
          );
        } catch (e) {
          progress.stop();
          throw asUsageError(e);
        }
      });
  },
};
