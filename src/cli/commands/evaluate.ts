// `argos evaluate`: score normal and attack traces with a model folder; AUC, false alarms at
// 90% detection, and precision/recall/F1/FPR at the model's threshold, overall and per attack type.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliContext, CommandModule } from '../context.js';
import { progressReporter } from '../progress.js';
import { asUsageError, numberFlag } from './model-flags.js';
import { UsageError } from '../errors.js';
import { parseAbi } from '../../model/traces.js';
import { evaluate, type GroupMetrics } from '../../model/evaluate.js';
import { openInlineClassifier } from '../../detector/onnx-classifier.js';

/** `--program-by`: how trace files name their program. */
export function programBy(value: string): 'folder' {
  if (value !== 'folder') throw new UsageError(`--program-by "${value}": the only way is "folder" (a trace file's first-level folder names its program)`);
  return value;
}

interface EvaluateFlags {
  labels?: string;
  programBy?: string;
  model: string;
  normal: string;
  attack: string;
  abi?: string;
  batch: string;
  json?: boolean;
  progress: boolean;
}

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

function line(name: string, traces: number, m: Omit<GroupMetrics, 'traces'>): string {
  return `${name.padEnd(18)} ${String(traces).padStart(6)}  auc ${m.auc.toFixed(4)}  far@dr90 ${pct(m.far_at_dr90).padStart(6)}  recall ${pct(m.recall).padStart(6)}`;
}

export const command: CommandModule = {
  register(program: Command, ctx: CliContext) {
    program
      .command('evaluate')
      .description('score normal and attack traces with a model folder (ONNX Runtime, the daemon\'s windowing; a trace scores the max over its windows)')
      .requiredOption('--model <dir>', 'model folder (model.onnx, syscalls.csv, model.json)')
      .requiredOption('--normal <path>', 'normal traces: folder (recursive), trace file or Tetragon recording')
      .requiredOption('--attack <path>', 'attack traces; a trace\'s attack type is its first-level folder\'s name without a trailing _N')
      .option('--abi <abi>', 'ABI of numeric syscalls: i386 (ADFA-LD), x86_64, arm64, arm32')
      .option('--labels <file>', 'labels.json of the attack recording: its labelled processes are the attacks (an attack unit is one instance), the others normal')
      .option('--program-by <how>', 'folder: a trace file\'s first-level folder names its program')
      .option('--batch <n>', 'windows per ONNX Runtime call', '64')
      .option('--json', 'print one JSON object')
      .option('--no-progress', 'no progress bar or progress lines')
      .action(async (flags: EvaluateFlags) => {
        const progress = progressReporter(ctx, flags.progress);
        try {
          const batch = numberFlag('--batch', flags.batch);
          if (!Number.isInteger(batch) || batch < 1 || batch > 4096) throw new UsageError('--batch must be a whole number from 1 to 4096');
          const r = await evaluate({
            model: resolve(ctx.cwd, flags.model),
            normal: resolve(ctx.cwd, flags.normal),
            attack: resolve(ctx.cwd, flags.attack),
            ...(flags.abi === undefined ? {} : { abi: parseAbi(flags.abi) }),
            ...(flags.labels === undefined ? {} : { labels: resolve(ctx.cwd, flags.labels) }),
            ...(flags.programBy === undefined ? {} : { programBy: programBy(flags.programBy) }),
            batch,
            progress: (p, d, t) => progress.update(p, d, t),
            openClassifier: openInlineClassifier,
          });
          progress.stop();
          if (flags.json) {
            ctx.stdout.write(`${JSON.stringify(r)}\n`);
            return;
          }
          const out = (s: string): boolean => ctx.stdout.write(`${s}\n`);
          const units = r.attack_units === r.attack_traces ? `${r.attack_traces} attack traces` : `${r.attack_traces} attack traces in ${r.attack_units} attacks`;
          out(`model ${r.model}: ${r.normal_traces} normal traces and ${units}, ${r.windows} windows; classified ${r.windows_per_s} windows/s, ${r.syscalls_per_s} syscalls/s`);
          out(`at threshold ${r.threshold.toPrecision(6)}: precision ${pct(r.precision)}, recall ${pct(r.recall)}, f1 ${r.f1.toFixed(3)}, fpr ${pct(r.fpr)}`);
          if (r.per_program !== undefined) out(`new programs: ${r.new_program_attack} attack and ${r.new_program_normal} normal traces`);
          if (r.scores_alone !== undefined) out(`from the windows' scores alone (new programs not flagged as new): auc ${r.scores_alone.auc.toFixed(4)}, far@dr90 ${pct(r.scores_alone.far_at_dr90)}, recall ${pct(r.scores_alone.recall)}`);
          out(line('all attacks', r.attack_units, r));
          for (const [type, m] of Object.entries(r.per_type)) out(line(type, m.traces, m));
          const noisy = Object.entries(r.per_program ?? {}).filter(([, m]) => m.false_alarms > 0);
          if (noisy.length > 0) {
            out('programs with false alarms:');
            for (const [program, m] of noisy) out(`  ${program}  ${m.false_alarms} of ${m.normal_traces} traces${m.new ? ' (new program)' : ''}`);
          }
        } catch (e) {
          progress.stop();
          throw asUsageError(e);
        }
      });
  },
};
