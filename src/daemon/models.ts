// The model that watches, and swapping it: a model folder (a device version, or the shipped
// generic one) becomes a ScoringModel for the detector, the tracker's token map, the
// alerter's model name and the programs the new-program watch knows, all at once.
import type { Config } from '../config/load.js';
import type { Logger } from '../core/logger.js';
import { programKey } from '../core/program.js';
import type { Timers } from '../core/time.js';
import type { ProcessInfo } from '../core/types.js';
import type { Alerter } from '../alerter/alerter.js';
import type { NewProgramWatch } from '../alerter/new-programs.js';
import type { Detector, ScoringModel } from '../detector/detector.js';
import { OnnxClassifier } from '../detector/onnx-classifier.js';
import { tokenNames } from '../detector/why.js';
import type { ModelSwitcher } from '../learn/lifecycle.js';
import type { ModelStore } from '../learn/model-store.js';
import { loadModel, type LoadedModel } from '../model/folder.js';
import { Tokenizer } from '../syscalls/tokenizer.js';
import { tokenMap } from '../syscalls/universal.js';
import type { Tracker } from '../tracker/index.js';

/**
 * While the daemon learns a device, the generic model alerts only on windows scoring at least
 * this many times its threshold: a fresh device is not flooded by a model that does not know
 * it yet (README, "the first day of a device").
 */
export const LEARNING_THRESHOLD_FACTOR = 1.5;

/** What a loaded model becomes for the detector. */
export async function scoringModel(model: LoadedModel, config: Pick<Config, 'threshold' | 'workers' | 'classifierMode'>, o: { log: Logger; timers?: Timers; learning: boolean }): Promise<ScoringModel> {
  const classifier = await OnnxClassifier.open(model, { workers: config.workers, mode: config.classifierMode, log: o.log.child({ module: 'classifier' }), ...(o.timers ? { timers: o.timers } : {}) });
  const card = model.card;
  const programs = card.programs;
  const generic = programs === undefined && o.learning;
  const m: ScoringModel = {
    classifier,
    name: card.name,
    threshold: (config.threshold ?? card.threshold) * (generic ? LEARNING_THRESHOLD_FACTOR : 1),
    names: tokenNames(model.mapping),
  };
  if (programs !== undefined) m.profileOf = (p: ProcessInfo) => programs[programKey(p)] ?? 0;
  return m;
}

export interface ModelInUse {
  name: string;
  version: number;
  programs: number;
}

/** Swaps device model versions (or the generic model) into the running pipeline. */
export class PipelineModels implements ModelSwitcher {
  private inUse: number | undefined;

  constructor(
    private readonly o: {
      config: Config;
      models: ModelStore;
      /** The shipped generic model. */
      generic: () => Promise<LoadedModel>;
      detector: Detector;
      tracker: Tracker;
      alerter: Alerter;
      newPrograms: NewProgramWatch;
      log: Logger;
      /** The version the pipeline was built with (undefined = generic). */
      initial: { version: number | undefined; model: LoadedModel };
    },
  ) {
    this.inUse = o.initial.version;
    this.describe = describe(o.initial.model, o.initial.version);
  }

  /** What watches now. */
  describe: ModelInUse;

  async use(version: number | undefined): Promise<ModelInUse> {
    if (version === this.inUse && this.describe !== undefined) return this.describe;
    const model = version === undefined ? await this.o.generic() : await loadModel({ dir: this.o.models.dirOf(version) });
    const next = await scoringModel(model, this.o.config, { log: this.o.log, learning: version === undefined });
    this.o.tracker.setTokenMap(tokenMap(Tokenizer.fromMapping(model.mapping)));
    // Windows cut before finish on the model they were cut for; the old classifier closes after.
    void this.o.detector.swap(next);
    this.o.alerter.setModelName(model.card.name);
    this.o.newPrograms.setKnown(model.card.programs);
    this.inUse = version;
    this.describe = describe(model, version);
    this.o.log.info({ model: model.card.name, version: version ?? 0 }, 'model in use');
    return this.describe;
  }
}

function describe(model: LoadedModel, version: number | undefined): ModelInUse {
  return { name: model.card.name, version: version ?? 0, programs: Object.values(model.card.programs ?? {}).length };
}
