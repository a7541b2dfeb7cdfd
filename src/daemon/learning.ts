// The learning side of the daemon (README, "the first day of a device"): where the device's
// models live, the baseline recorder beside the tracker, the lifecycle that trains and swaps
// models, and the commands operators give it. pipeline.ts wires these into the data flow.
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config/load.js';
import type { Counters } from '../core/counters.js';
import type { Logger } from '../core/logger.js';
import type { StatePayload } from '../core/mqtt.js';
import type { Clock, Timers } from '../core/time.js';
import type { EventHandler, EventLine, Lifecycle, ProcessInfo } from '../core/types.js';
import { openInlineClassifier } from '../detector/onnx-classifier.js';
import type { HealthProbe } from '../health/probe.js';
import { Learner, type ModelSwitcher } from '../learn/lifecycle.js';
import { ModelStore } from '../learn/model-store.js';
import { BaselineRecorder } from '../learn/recorder.js';
import { Trainer } from '../learn/trainer.js';
import { runTrainingJob } from '../learn/training.js';
import type { LiveDaemon } from '../learn/commands.js';
import { isCompiled } from '../runtime/platform.js';
import type { SqliteStore } from '../store/store.js';
import { universalVocabulary } from '../syscalls/universal.js';
import type { Geometry } from './geometry.js';

/** The folder of the device's model versions: ARGOS_STATE_DIR, or models/ beside the database. */
export function stateDirOf(config: Pick<Config, 'stateDir' | 'dbPath'>): string {
  return resolve(config.stateDir ?? join(dirname(resolve(config.dbPath)), 'models'));
}

/** Whether `argos run` learns the device: ARGOS_LEARNING=auto and no model configured. */
export function learnsDevice(config: Pick<Config, 'learning' | 'modelDir' | 'modelPath'>): boolean {
  return config.learning === 'auto' && config.modelDir === undefined && config.modelPath === undefined;
}

/** Hands every event to `a` (the tracker), then to `b` (the baseline recorder). */
export function fanOut(a: EventHandler, b: EventHandler): EventHandler {
  return {
    syscall(key: string, token: number, line: EventLine) {
      a.syscall(key, token, line);
      b.syscall(key, token, line);
    },
    exec(p: ProcessInfo) {
      a.exec(p);
      b.exec(p);
    },
    exit(key: string) {
      a.exit(key);
      b.exit(key);
    },
  };
}

export interface DeviceLearning {
  models: ModelStore;
  recorder: BaselineRecorder;
  learner: Learner;
  /** Writes what the recorder holds when the daemon stops. */
  recorderPart: Lifecycle;
  probe: HealthProbe;
}

export function buildDeviceLearning(o: {
  config: Config;
  store: SqliteStore;
  models: ModelStore;
  geometry: Geometry;
  switcher: ModelSwitcher;
  counters: Counters;
  clock: Clock;
  timers: Timers;
  log: Logger;
  onState: (state: StatePayload) => void;
  onExternalChange: () => void;
}): DeviceLearning {
  const { config, store, log } = o;
  const node = config.nodeName ?? 'unknown';
  const trainer = new Trainer({
    entry: new URL(import.meta.url.endsWith('.ts') ? './train-worker.ts' : './train-worker.js', import.meta.url),
    inline: (job) => runTrainingJob(job, openInlineClassifier),
    // The single binary carries no worker script: it trains on the main thread.
    mode: isCompiled() ? 'inline' : 'worker',
    log: log.child({ module: 'trainer' }),
  });
  const learner = new Learner({
    store,
    models: o.models,
    trainer,
    switcher: o.switcher,
    node,
    learnPeriodMs: config.learnPeriod,
    retrainIntervalMs: config.retrainInterval,
    job: { dbPath: resolve(config.dbPath), name: `${node}-device`, window: o.geometry.window, delta: o.geometry.delta, minWindow: o.geometry.minWindow, targetFpr: config.targetFpr, seed: 1 },
    clock: o.clock,
    timers: o.timers,
    log: log.child({ module: 'learning' }),
    onState: o.onState,
    onExternalChange: o.onExternalChange,
    // Declared below; called only once training begins.
    checkpoint: () => recorder.checkpoint(),
  });
  const recorder = new BaselineRecorder({
    store,
    names: universalVocabulary().names,
    counters: o.counters,
    log: log.child({ module: 'baseline' }),
    clock: o.clock,
    timers: o.timers,
    maxBaselineCalls: config.baselineSize,
    onProgram: (program) => learner.programSeen(program),
  });
  const recorderPart: Lifecycle = {
    start: () => Promise.resolve(),
    stop: () => {
      recorder.flush();
      recorder.stop();
      return Promise.resolve();
    },
  };
  const probe: HealthProbe = {
    name: 'learning',
    check() {
      const s = learner.status();
      const last = s.lastTraining;
      const refused = last !== undefined && !last.ok ? `; last training refused: ${last.reason ?? 'unknown'}` : '';
      if (s.learning !== undefined) {
        return { ok: true, detail: `learning this device: ${Math.round(s.learning.progress * 100)}% of the period, ${s.learning.ready} of ${s.learning.programs} active programs ready, ${s.learning.traces} traces${refused}` };
      }
      return { ok: true, detail: `${s.state} with model v${s.model.version} (${s.programs} programs)${refused}` };
    },
  };
  return { models: o.models, recorder, learner, recorderPart, probe };
}

/** The daemon's side of the commands when it does not learn (ARGOS_LEARNING=off or a configured model). */
export function fixedModelDaemon(o: { node: string; clock: Clock; model: () => { name: string }; allowancesChanged: () => void }): LiveDaemon {
  return {
    relearn: () => Promise.reject(new Error('this daemon does not learn the device (ARGOS_LEARNING=off or ARGOS_MODEL_DIR is set); nothing to relearn')),
    status: () => ({ node: o.node, time: new Date(o.clock.now()).toISOString(), state: 'detecting', model: { name: o.model().name, version: 0 }, programs: 0 }),
    allowancesChanged: o.allowancesChanged,
  };
}
