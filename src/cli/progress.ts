// Progress of long commands on stderr: a bar on a terminal, plain log lines otherwise
// (one per phase start and about every 10%), so logs and CI output stay readable.
import cliProgress from 'cli-progress';
import type { CliContext } from './context.js';

export interface ProgressReporter {
  update(phase: string, done: number, total: number): void;
  stop(): void;
}

export function progressReporter(ctx: CliContext, enabled = true): ProgressReporter {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  const tty = (ctx.stderr as NodeJS.WriteStream).isTTY === true;
  if (tty) {
    const bar = new cliProgress.SingleBar(
      { stream: ctx.stderr as NodeJS.WriteStream, format: '{phase} [{bar}] {value}/{total}', hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    let phase = '';
    return {
      update(p, done, total) {
        if (p !== phase) {
          if (phase !== '') bar.stop();
          phase = p;
          bar.start(total, done, { phase: p.padEnd(14) });
        } else bar.update(done);
      },
      stop() {
        if (phase !== '') bar.stop();
      },
    };
  }
  let phase = '';
  let lastTenth = -1;
  return {
    update(p, done, total) {
      const tenth = total > 0 ? Math.floor((done / total) * 10) : 10;
      if (p !== phase || tenth > lastTenth) {
        if (p !== phase) lastTenth = -1;
        phase = p;
        if (tenth > lastTenth) ctx.stderr.write(`${p}: ${done}/${total}\n`);
        lastTenth = tenth;
      }
    },
    stop: () => undefined,
  };
}
