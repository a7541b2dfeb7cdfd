// The daemon's life on a device (DESIGN.md "Programs and the device's own model"):
//
//   learning ──ready──▶ training ──valid──▶ detecting ──every ARGOS_RETRAIN_INTERVAL──▶ training ─▶ ...
//                          └──refused────▶ (back where it was; tries again later)
//
// learning: no device model yet. The generic model watches (at a conservative threshold) while
//   the baseline recorder fills the baseline from the same events. Learning is over when the
//   daemon has been learning for ARGOS_LEARN_PERIOD (time it ran, not time it was down) and
//   every *active* program (seen in the last quarter of the period) is *ready* (at least
//   READY_TRACES traces or minProgramCalls calls in the baseline), or at the latest after twice
//   the period, whatever is still thin (those programs are then scored by the fallback).
// training: a worker thread trains and validates a model from the baseline (training.ts);
//   the model in use keeps watching. A valid model is installed (model-store.ts) and swapped
//   in without a restart; a refused one is logged and the daemon tries again after
//   RETRY_FRACTION of the learning period (learning) or the next interval (detecting).
// detecting: the device model watches; the baseline keeps rolling (alerted processes held
//   back); every ARGOS_RETRAIN_INTERVAL of running time the daemon trains again.
// Everything that must survive a restart is in the database (the `lifecycle` table): the
// state, the time learnt, the last training. Durations are measured on the monotonic clock.
import type { StatePayload, DaemonState } from '../core/mqtt.js';
import type { Logger } from '../core/logger.js';
import type { Clock, Timers } from '../core/time.js';
import type { Lifecycle } from '../core/types.js';
import type { ProgramStats, SqliteStore } from '../store/store.js';
import type { ModelStore } from './model-store.js';
import type { Trainer } from './trainer.js';
import type { TrainingJob } from './training.js';

/** Traces a program needs in the baseline to count as ready (or minProgramCalls calls). */
export const READY_TRACES = 3;
/** After a refused first training, the daemon learns this share of the period before trying again. */
export const RETRY_FRACTION = 0.25;
/** How often the lifecycle looks at time, requests and the database. */
export const TICK_MS = 1000;

export interface LifecycleRecord {
  state: DaemonState;
  /** Running time spent learning (ms). */
  learnedMs: number;
  /** When learning began (ISO). */
  learningSince: string;
  /** Running time since the last training began (ms), in detecting. */
  sinceTrainingMs: number;
  /** No training before the learnt time reaches this (after a refused one). */
  retryAtMs?: number;
  lastTraining?: NonNullable<StatePayload['lastTraining']>;
  /** Program → learnt time (ms) when last seen starting, while learning. */
  seen?: Record<string, number>;
  /** When the daemon last saved this (ISO). */
  savedAt?: string;
}

/**
 * Programs seen in the last quarter of the learning period (active), and how many of them
 * are ready: at least READY_TRACES traces or `minCalls` calls in the baseline.
 */
export function readiness(seen: ReadonlyMap<string, number>, learnedMs: number, periodMs: number, sizes: () => readonly ProgramStats[], minCalls: number): { active: number; ready: number } {
  const recent = learnedMs - periodMs / 4;
  const active = [...seen].filter(([, at]) => at >= recent).map(([p]) => p);
  if (active.length === 0) return { active: 0, ready: 0 };
  const stats = new Map(sizes().map((s) => [s.program, s]));
  const ready = active.filter((p) => {
    const s = stats.get(p);
    return s !== undefined && (s.traces >= READY_TRACES || s.syscalls >= minCalls);
  }).length;
  return { active: active.length, ready };
}

/** The `learning` part of the state: how far the period is, the baseline, and the programs' readiness. */
export function learningProgress(o: { since: string; learnedMs: number; periodMs: number; traces: number; readiness: { active: number; ready: number } }): NonNullable<StatePayload['learning']> {
  return { since: o.since, progress: Math.min(1, Math.round((o.learnedMs / o.periodMs) * 1000) / 1000), traces: o.traces, programs: o.readiness.active, ready: o.readiness.ready };
}

/** Calls a program needs in the baseline to be ready when it has fewer than READY_TRACES traces. */
export const DEFAULT_MIN_PROGRAM_CALLS = 2000;

/** An operator's request through the CLI (`argos model rollback|relearn`), taken by the daemon. */
export type LifecycleRequest = { kind: 'relearn' } | { kind: 'rollback'; version: number };

export const LIFECYCLE_KEY = 'lifecycle';
export const REQUEST_KEY = 'request';

/** What the daemon in use offers the lifecycle: making a model version (or the generic one) the one that watches. */
export interface ModelSwitcher {
  /** Loads and swaps in `version` (undefined = the shipped generic model); resolves with what is in use. */
  use(version: number | undefined): Promise<{ name: string; version: number; programs: number }>;
}

export interface LearnerOptions {
  store: SqliteStore;
  models: ModelStore;
  trainer: Trainer;
  switcher: ModelSwitcher;
  node: string;
  learnPeriodMs: number;
  retrainIntervalMs: number;
  /** The training job's settings (geometry, target, seed...) but its staging folder and current model. */
  job: Omit<TrainingJob, 'staging' | 'current'>;
  clock: Clock;
  timers: Timers;
  log: Logger;
  /** Told of every state change (MQTT `state`, metrics). */
  onState?: (state: StatePayload) => void;
  /** The database changed under the daemon (an operator's allowance from the CLI). */
  onExternalChange?: () => void;
  /** Called right before a training: what the recorder holds is written (long-lived processes too). */
  checkpoint?: () => void;
}

export class Learner implements Lifecycle {
  private record: LifecycleRecord;
  /** Program → learnt time when last seen starting. */
  private readonly seen = new Map<string, number>();
  private model = { name: 'generic', version: 0, programs: 0 };
  private timer: unknown;
  private lastTick = 0;
  private ticks = 0;
  private dataVersion = 0;
  private training: Promise<void> | undefined;
  private stopped = false;
  /** Trainings since start, by outcome. */
  readonly trainings = { installed: 0, refused: 0 };

  constructor(private readonly o: LearnerOptions) {
    this.record = { state: 'learning', learnedMs: 0, learningSince: new Date(o.clock.now()).toISOString(), sinceTrainingMs: 0 };
  }

  get state(): DaemonState {
    return this.record.state;
  }

  /** The device model version that watches (0: the generic model). */
  get version(): number {
    return this.model.version;
  }

  /** Share of the learning period done (1 once a device model watches). */
  get progress(): number {
    return this.model.version > 0 ? 1 : Math.min(1, this.record.learnedMs / this.o.learnPeriodMs);
  }

  /** Loads the persisted state, swaps in the installed model, and starts the clock. */
  async start(): Promise<void> {
    this.o.models.open();
    const saved = this.o.store.getLifecycle<LifecycleRecord>(LIFECYCLE_KEY);
    if (saved !== undefined) this.record = { ...this.record, ...saved };
    for (const [program, at] of Object.entries(this.record.seen ?? {})) this.seen.set(program, at);
    const installed = this.o.models.current();
    // A training cut short by a stop or a crash is simply started again.
    const interrupted = this.record.state === 'training';
    this.record.state = installed === undefined ? 'learning' : 'detecting';
    try {
      this.model = await this.o.switcher.use(installed?.version);
    } catch (e) {
      if (installed === undefined) throw e;
      // A damaged model folder: the generic model watches and a new model is trained from the baseline.
      this.o.log.error({ err: e, version: installed.version, dir: installed.dir }, 'the installed device model cannot be loaded; the generic model watches until a new one is trained');
      this.record.state = 'learning';
      this.model = await this.o.switcher.use(undefined);
    }
    this.dataVersion = this.o.store.dataVersion();
    this.lastTick = this.o.clock.monotonic();
    this.save();
    this.publish();
    this.arm();
    if (!(await this.takeRequest()) && interrupted) this.train();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.o.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.o.trainer.stop();
    await this.training;
    this.save();
  }

  /** A process of `program` started (the recorder tells): which programs are active. */
  programSeen(program: string): void {
    this.seen.set(program, this.record.learnedMs);
  }

  /** Starts learning afresh: the generic model, an empty baseline, no allowances. */
  async relearn(): Promise<StatePayload> {
    await this.o.trainer.stop();
    this.o.models.use(undefined);
    this.o.store.clearBaseline();
    this.o.store.clearQuarantine();
    this.o.store.clearAllowances();
    this.seen.clear();
    this.record = { state: 'learning', learnedMs: 0, learningSince: new Date(this.o.clock.now()).toISOString(), sinceTrainingMs: 0, ...(this.record.lastTraining ? { lastTraining: this.record.lastTraining } : {}) };
    this.model = await this.o.switcher.use(undefined);
    this.save();
    this.publish();
    this.o.log.info('learning this device afresh');
    return this.status();
  }

  /** Makes an installed version the one in use. */
  async rollback(version: number): Promise<StatePayload> {
    this.o.models.use(version);
    this.model = await this.o.switcher.use(version);
    this.record.state = 'detecting';
    this.record.sinceTrainingMs = 0;
    this.save();
    this.publish();
    this.o.log.info({ version }, 'rolled back to an earlier model');
    return this.status();
  }

  /** Trains now (the retrain command), unless a training runs already. */
  trainNow(): void {
    this.train();
  }

  status(): StatePayload {
    const r = this.record;
    const out: StatePayload = { node: this.o.node, time: new Date(this.o.clock.now()).toISOString(), state: r.state, model: { name: this.model.name, version: this.model.version }, programs: this.model.programs };
    if (r.state === 'learning' || (r.state === 'training' && this.model.version === 0)) {
      out.learning = learningProgress({ since: r.learningSince, learnedMs: r.learnedMs, periodMs: this.o.learnPeriodMs, traces: this.o.store.baselineStats().traces, readiness: this.readiness() });
    }
    if (r.lastTraining !== undefined) out.lastTraining = r.lastTraining;
    return out;
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.o.timers.setTimeout(() => {
      this.timer = undefined;
      this.tick();
      this.arm();
    }, TICK_MS);
  }

  private tick(): void {
    const now = this.o.clock.monotonic();
    // A long gap (the machine slept, the event loop was stuck) counts as one tick.
    const delta = Math.min(Math.max(0, now - this.lastTick), TICK_MS * 5);
    this.lastTick = now;
    const r = this.record;
    if (r.state === 'learning') r.learnedMs += delta;
    else if (r.state === 'detecting') r.sinceTrainingMs += delta;
    this.ticks++;
    this.watchDatabase();
    if (r.state === 'learning' && this.ticks % 5 === 0 && this.learnt()) this.train();
    else if (r.state === 'detecting' && r.sinceTrainingMs >= this.o.retrainIntervalMs) this.train();
    if (this.ticks % 10 === 0) this.save();
  }

  /** Requests written by the CLI while the daemon runs: allowances, relearn, rollback. */
  private watchDatabase(): void {
    let v: number;
    try {
      v = this.o.store.dataVersion();
    } catch {
      return;
    }
    if (v === this.dataVersion) return;
    this.dataVersion = v;
    this.o.onExternalChange?.();
    this.takeRequest().catch((e: unknown) => this.o.log.error({ err: e }, 'cannot carry out the request'));
  }

  /** Carries out (and removes) a request the CLI left; true when there was one. */
  private async takeRequest(): Promise<boolean> {
    const request = this.o.store.getLifecycle<LifecycleRequest>(REQUEST_KEY);
    if (request === undefined) return false;
    this.o.store.setLifecycle(REQUEST_KEY, undefined);
    if (request.kind === 'relearn') await this.relearn();
    else await this.rollback(request.version);
    return true;
  }

  private readiness(): { active: number; ready: number } {
    return readiness(this.seen, this.record.learnedMs, this.o.learnPeriodMs, () => this.o.store.programStats(), this.o.job.minProgramCalls ?? DEFAULT_MIN_PROGRAM_CALLS);
  }

  /** The learning rule (see the module comment). */
  private learnt(): boolean {
    const r = this.record;
    if (r.retryAtMs !== undefined && r.learnedMs < r.retryAtMs) return false;
    if (r.learnedMs >= this.o.learnPeriodMs * 2) return true;
    if (r.learnedMs < this.o.learnPeriodMs) return false;
    const { active, ready } = this.readiness();
    return ready === active;
  }

  private train(): void {
    if (this.training !== undefined || this.stopped) return;
    const before = this.record.state === 'training' ? (this.model.version === 0 ? 'learning' : 'detecting') : this.record.state;
    this.record.state = 'training';
    this.save();
    this.publish();
    this.training = this.trainOnce(before).finally(() => {
      this.training = undefined;
    });
  }

  private async trainOnce(before: DaemonState): Promise<void> {
    try {
      this.o.checkpoint?.();
    } catch (e) {
      this.o.log.warn({ err: e }, 'cannot write what the recorder holds before the training');
    }
    const staging = this.o.models.staging();
    const current = this.o.models.current();
    const started = this.o.clock.now();
    this.o.log.info({ state: before }, 'training a model of this device');
    const outcome = await this.o.trainer.run({ ...this.o.job, staging, ...(current === undefined ? {} : { current: current.dir }) });
    if (this.stopped) return;
    const r = this.record;
    r.sinceTrainingMs = 0;
    const figures = { time: new Date(started).toISOString(), seconds: outcome.seconds, traces: outcome.traces, programs: outcome.programs, ...(outcome.validation ? { heldOutFpr: outcome.validation.fpr } : {}) };
    if (outcome.ok) {
      try {
        const installed = this.o.models.install(staging);
        this.model = await this.o.switcher.use(installed.version);
        // What operators allowed is now in the model.
        this.o.store.clearAllowances();
        this.o.onExternalChange?.();
        r.state = 'detecting';
        delete r.retryAtMs;
        r.lastTraining = { ...figures, ok: true, version: installed.version };
        this.trainings.installed++;
        this.o.log.info({ version: installed.version, ...figures }, 'new model installed and in use');
      } catch (e) {
        r.state = before;
        r.lastTraining = { ...figures, ok: false, reason: `cannot install the model: ${(e as Error).message}` };
        this.trainings.refused++;
        this.o.log.error({ err: e }, 'cannot install the new model; the model in use stays');
      }
    } else {
      r.state = before;
      if (before === 'learning') r.retryAtMs = r.learnedMs + this.o.learnPeriodMs * RETRY_FRACTION;
      r.lastTraining = { ...figures, ok: false, reason: outcome.reason ?? 'unknown' };
      this.trainings.refused++;
      this.o.log.warn({ reason: outcome.reason, ...figures }, before === 'learning' ? 'the model was refused; learning on' : 'the new model was refused; the model in use stays');
    }
    this.save();
    this.publish();
  }

  private save(): void {
    try {
      const seen = this.record.state === 'detecting' ? undefined : Object.fromEntries(this.seen);
      this.record = { ...this.record, savedAt: new Date(this.o.clock.now()).toISOString(), ...(seen === undefined ? {} : { seen }) };
      if (seen === undefined) delete this.record.seen;
      this.o.store.setLifecycle(LIFECYCLE_KEY, this.record);
      this.dataVersion = this.o.store.dataVersion();
    } catch (e) {
      this.o.log.error({ err: e }, 'cannot save the learning state');
    }
  }

  private publish(): void {
    try {
      this.o.onState?.(this.status());
    } catch (e) {
      this.o.log.warn({ err: e }, 'cannot publish the state');
    }
  }
}
