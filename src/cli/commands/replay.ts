// `argos replay FILE`: the whole pipeline over a recorded Tetragon JSON-lines file.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
import type { ProcessInfo } from '../../core/types.js';
import { alertDetail } from './alerts.js';
import { systemClock, systemTimers } from '../../core/time.js';

/** What `--demo` replays: real programs and real attacks recorded on a Debian host, through the model learned from that host's normal part. */
export const DEMO = {
  recording: 'models/recordings/debian12-x64/attacks.jsonl.gz',
  labels: 'models/recordings/debian12-x64/labels.json',
  model: 'models/debian12-x64',
};

interface ReplayFlags extends CommonFlags {
  demo?: boolean;
  json?: boolean;
  speed: string;
  db?: string;
  model?: string;
  labels?: string;
}

/** A recording's labels: its attack processes (by exec_id) with their type and instance. */
interface Labels {
  attacks: Record<string, { type: string; instance: string }>;
}

function readLabels(path: string): Labels {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`${path}: cannot read the labels (${(e as Error).message})`);
  }
  const attacks = (raw as { attacks?: unknown })?.attacks;
  if (typeof attacks !== 'object' || attacks === null) throw new UsageError(`${path}: the labels have no "attacks" object of exec_id → { type, instance }`);
  return { attacks: attacks as Labels['attacks'] };
}

/** Which attacks of a labelled recording were flagged (an alert, or a window or start folded into one). */
interface Caught {
  labels: Labels;
  /** Attack instance → flagged. */
  instances: Map<string, boolean>;
  /** Flagged processes that are not part of an attack. */
  falseAlarms: Set<string>;
}

function caughtSummary(c: Caught): string[] {
  const byType = new Map<string, { all: number; caught: number }>();
  const types = new Map<string, string>();
  for (const l of Object.values(c.labels.attacks)) types.set(l.instance, l.type);
  for (const [instance, type] of types) {
    const t = byType.get(type) ?? { all: 0, caught: 0 };
    t.all++;
    if (c.instances.get(instance) === true) t.caught++;
    byType.set(type, t);
  }
  const caught = [...byType.values()].reduce((s, t) => s + t.caught, 0);
  return [
    `attacks caught: ${caught} of ${types.size} (${[...byType].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([type, t]) => `${type} ${t.caught}/${t.all}`).join(', ')})`,
    `normal processes flagged: ${c.falseAlarms.size}`,
  ];
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

function printHuman(ctx: CliContext, p: Pipeline, summary: ReplaySummary, alerts: readonly Alert[], keptIn: string | undefined, caught?: Caught): void {
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
      out(`  ${a.kind === 'anomaly' ? `score ${a.score.toFixed(3)}` : 'new program'}  pid ${String(a.process.pid).padEnd(7)} ${safeText(a.process.binary, 120)}${pod}${repeats}`);
      const label = caught?.labels.attacks[a.process.exec_id];
      if (caught !== undefined) out(`      ${label === undefined ? 'not part of an attack' : `attack: ${label.instance}`}`);
      const detail = alertDetail(a, 1);
      if (detail !== undefined) out(`      ${detail}`);
    }
  }
  out();
  out(
    `${summary.events} events (${summary.malformed} malformed), ${summary.syscalls} syscalls, ` +
      `${summary.processes} processes, ${summary.windows} windows, ${summary.alerts} alerts in ${summary.seconds.toFixed(2)} s`,
  );
  if (caught !== undefined) for (const l of caughtSummary(caught)) out(l);
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
        .option('--demo', `replay the bundled recording of real programs and attacks (${DEMO.recording}) through the model learned on that host (${DEMO.model})`)
        .option('--model <dir>', 'model folder (ARGOS_MODEL_DIR)')
        .option('--labels <file>', 'the recording\'s labels.json: say which alerts belong to an attack, and which attacks were caught')
        .option('--json', 'print one summary object as the last line: events, malformed, syscalls, processes, windows, alerts, undelivered, seconds')
        .option('--speed <speed>', 'max, recorded, or a factor of the recorded pace such as 10', 'max')
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
      const recording = flags.demo ? resolveAsset(DEMO.recording) : (file as string);
      const labelsFile = flags.labels ?? (flags.demo ? resolveAsset(DEMO.labels) : undefined);
      const caught: Caught | undefined = labelsFile === undefined ? undefined : { labels: readLabels(labelsFile), instances: new Map(), falseAlarms: new Set() };
      if (caught !== undefined) for (const l of Object.values(caught.labels.attacks)) caught.instances.set(l.instance, false);
      const tmp = flags.db === undefined ? mkdtempSync(join(tmpdir(), 'argos-replay-')) : undefined;
      try {
        const config = configFor(ctx, flags, {
          dbPath: flags.db ?? join(tmp as string, 'replay.db'),
          // A replay prints its own results; the log says only what went wrong.
          logLevel: flags.logLevel ?? ctx.env.ARGOS_LOG_LEVEL ?? 'error',
          httpAddress: '',
          modelDir: flags.model ?? (flags.demo ? resolveAsset(DEMO.model) : undefined),
          // At full speed there is no real time between the recorded events to be quiet in.
          ...(speed === 'max' ? { idleFlush: '0' } : {}),
        });
        const log = createLogger(config.logLevel);
        const pipeline = await buildPipeline({
          config,
          log,
          stdin: ctx.stdin as Readable,
          // A replayed recording is watched by the model given, never learned from.
          learning: false,
          ...(caught === undefined
            ? {}
            : {
                onFlag: (process: ProcessInfo) => {
                  const label = caught.labels.attacks[process.execId];
                  if (label === undefined) caught.falseAlarms.add(process.execId);
                  else caught.instances.set(label.instance, true);
                },
              }),
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
          printHuman(ctx, pipeline, summary, alerts, flags.db, caught);
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
