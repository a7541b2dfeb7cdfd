// `argos replay FILE`: the whole pipeline over a recorded Tetragon JSON-lines file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { CliContext, CommandModule } from '../context.js';
import { addConfigOptions, configFor, type CommonFlags } from '../config-options.js';
import { EXIT_USAGE, UsageError } from '../errors.js';
import { safeText } from '../../core/sanitize.js';
import { buildPipeline, type Pipeline } from '../../daemon/index.js';
import { createLogger } from '../../core/logger.js';
import { createReplaySource } from '../../sources/replay.js';
import { parseSpeed } from '../../sources/stream.js';
import { resolveAsset } from '../../runtime/assets.js';
import { supervise } from '../supervise.js';
import type { Alert } from '../../core/alert.js';
import { systemClock, systemTimers } from '../../core/time.js';

/** The bundled recording `--demo` replays. */
export const DEMO_RECORDING = 'models/demo/adfa-ld.jsonl.gz';

interface ReplayFlags extends CommonFlags {
  demo?: boolean;
  json?: boolean;
  speed: string;
  db?: string;
  model?: string;
}

/** The summary `--json` prints as its last line. */
export interface ReplaySummary {
  events: number;
  malformed: number;
  syscalls: number;
  processes: number;
  windows: number;
  alerts: number;
  /** Messages (one per alert and reporter) still not acknowledged when the replay ended. */
  undelivered: number;
  seconds: number;
}

export function summarise(p: Pipeline, seconds: number, undelivered: number): ReplaySummary {
  const c = p.counters;
  return {
    events: c.events,
    malformed: c.malformed,
    syscalls: c.syscalls,
    processes: c.processes,
    windows: c.windows,
    alerts: c.alerts,
    undelivered,
    seconds: Math.round(seconds * 1000) / 1000,
  };
}

function printHuman(ctx: CliContext, p: Pipeline, summary: ReplaySummary, alerts: readonly Alert[], keptIn: string | undefined): void {
  const out = (s = '') => ctx.stdout.write(`${s}\n`);
  const card = p.model.card;
  out(`model ${card.name}: window ${p.geometry.window}, delta ${p.geometry.delta}, threshold ${p.alerter.threshold}`);
  if (alerts.length === 0) {
    out('no alerts');
  } else {
    out(`${alerts.length} alert${alerts.length === 1 ? '' : 's'}:`);
    for (const a of [...alerts].reverse()) {
      const pod = a.pod ? ` pod ${safeText(`${a.pod.namespace}/${a.pod.name}`, 120)}` : '';
      const repeats = a.count > 1 ? ` (x${a.count})` : '';
      out(`  ${a.kind === 'anomaly' ? `score ${a.score.toFixed(3)}` : 'new program'}  pid ${String(a.process.pid).padEnd(7)} ${safeText(a.process.binary, 200)}${pod}${repeats}`);
    }
  }
  out();
  out(
    `${summary.events} events (${summary.malformed} malformed), ${summary.syscalls} syscalls, ` +
      `${summary.processes} processes, ${summary.windows} windows, ${summary.alerts} alerts in ${summary.seconds.toFixed(2)} s`,
  );
  if (summary.undelivered > 0) {
    const n = `${summary.undelivered} message${summary.undelivered === 1 ? '' : 's'}`;
    out(
      keptIn === undefined
        ? `${n} not delivered before the drain timeout (ARGOS_DRAIN_TIMEOUT) are lost with the temporary database; replay with --db FILE to keep them`
        : `${n} not delivered before the drain timeout (ARGOS_DRAIN_TIMEOUT) stay in the outbox of ${keptIn}; a daemon with ARGOS_DB_PATH=${keptIn} delivers them`,
    );
  }
}

export const command: CommandModule = {
  register(program: Command, ctx: CliContext) {
    addConfigOptions(
      program
        .command('replay')
        .description('run the whole pipeline over a recorded Tetragon JSON-lines file (plain or .gz; - = standard input) and report what it found')
        .argument('[file]', 'the recording; - reads standard input')
        .option('--demo', `replay the bundled recording (${DEMO_RECORDING})`)
        .option('--json', 'print one summary object as the last line: events, malformed, syscalls, processes, windows, alerts, seconds')
        .option('--speed <speed>', 'max, recorded, or a factor of the recorded pace such as 10', 'max')
        .option('--model <dir>', 'model folder (ARGOS_MODEL_DIR; default: the bundled one)')
        .option('--db <path>', 'keep alerts in this database (default: a temporary one, removed afterwards)'),
    ).action(async (file: string | undefined, flags: ReplayFlags) => {
      if (flags.demo && file !== undefined) throw new UsageError('give either a FILE or --demo, not both');
      if (!flags.demo && file === undefined) throw new UsageError('which recording? give a FILE (- for standard input), or --demo for the bundled one');
      let speed: ReturnType<typeof parseSpeed>;
      try {
        speed = parseSpeed(flags.speed);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const recording = flags.demo ? resolveAsset(DEMO_RECORDING) : (file as string);
      const tmp = flags.db === undefined ? mkdtempSync(join(tmpdir(), 'argos-replay-')) : undefined;
      try {
        const config = configFor(ctx, flags, {
          modelDir: flags.model,
          dbPath: flags.db ?? join(tmp as string, 'replay.db'),
          // A replay prints its own results; the log says only what went wrong.
          logLevel: flags.logLevel ?? ctx.env.ARGOS_LOG_LEVEL ?? 'error',
          httpAddress: '',
        });
        const log = createLogger(config.logLevel);
        const pipeline = await buildPipeline({
          config,
          log,
          stdin: ctx.stdin as Readable,
          source: (sink) =>
            createReplaySource({
              file: recording,
              stdin: ctx.stdin as Readable,
              sink,
              logger: log.child({ module: 'source' }),
              speed,
              clock: systemClock,
              timers: systemTimers,
            }),
        });
        const started = process.hrtime.bigint();
        let undelivered = 0;
        let alerts: Alert[] = [];
        const code = await supervise({
          log,
          deadlineMs: config.drainTimeout + 5000,
          onSignal: () => pipeline.stop(),
          cleanup: () => pipeline.stop(),
          work: async () => {
            await pipeline.start();
            await pipeline.source.done;
            await pipeline.drain(config.drainTimeout);
            undelivered = pipeline.store.outboxDepth();
            if (!flags.json) alerts = pipeline.store.listAlerts(0, 1000);
          },
        });
        if (code !== undefined) process.exitCode = code;
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const summary = summarise(pipeline, seconds, undelivered);
        if (flags.json) {
          ctx.stdout.write(`${JSON.stringify(summary)}\n`);
        } else {
          printHuman(ctx, pipeline, summary, alerts, flags.db);
        }
        const what = flags.demo ? 'the demo recording' : file === '-' ? 'standard input' : file;
        if (code === undefined && summary.events === 0 && summary.malformed > 0) {
          // Lines, but not one event: not a recording (random bytes, another log format).
          ctx.stderr.write(
            `argos: no line of ${what} was a Tetragon event (${summary.malformed} malformed line${summary.malformed === 1 ? '' : 's'}); ` +
              'give a Tetragon JSON export or a recording (one JSON event a line, plain or .gz)\n',
          );
          process.exitCode = EXIT_USAGE;
        } else if (code === undefined && summary.events === 0) {
          // Empty: nothing to replay (also a way to deliver what waits in --db's outbox).
          ctx.stderr.write(`argos: ${what} holds no line; nothing was replayed\n`);
        }
      } finally {
        if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
      }
    });
  },
};
