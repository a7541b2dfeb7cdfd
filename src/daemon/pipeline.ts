// The composition root of the daemon: the only place that builds the stages and wires them in the
// order of the data flow (source → parser → tracker → detector → alerter → store →
// reporters). Parts start in that order from the store outwards and stop in reverse.
import type { Readable } from 'node:stream';
import { Registry } from 'prom-client';
import type { Config } from '../config/load.js';
import { Counters } from '../core/counters.js';
import { LifecycleGroup } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { systemClock, systemTimers, type Clock } from '../core/time.js';
import type { ClassifierHealth, EventSource, Lifecycle, LineSink, ProcessInfo } from '../core/types.js';
import { Detector } from '../detector/detector.js';
import { loadModel, type LoadedModel } from '../model/folder.js';
import { Alerter } from '../alerter/alerter.js';
import { NewProgramWatch } from '../alerter/new-programs.js';
import { SqliteStore } from '../store/store.js';
import { RetentionTask } from '../store/retention.js';
import { BufferedAlertStore } from '../store/buffered-alerts.js';
import { Parser } from '../parser/index.js';
import { Tokenizer } from '../syscalls/index.js';
import { tokenMap, universalVocabulary } from '../syscalls/universal.js';
import { Allowances } from '../learn/allowances.js';
import { Commands } from '../learn/commands.js';
import type { Learner } from '../learn/lifecycle.js';
import { ModelStore } from '../learn/model-store.js';
import type { BaselineRecorder } from '../learn/recorder.js';
import { Tracker } from '../tracker/index.js';
import { shippedPolicy } from '../runtime/assets.js';
import type { Reporting } from '../reporters/reporting.js';
import type { MqttReporter } from '../reporters/mqtt.js';
import { createMetrics, type ArgosMetrics } from '../health/metrics.js';
import { HealthServer } from '../health/server.js';
import type { HealthProbe } from '../health/probe.js';
import { alertStorageProbe, databaseProbe, modelProbe, progressProbe, reporterProbe } from '../health/daemon-probes.js';
import { createSource } from './sources.js';
import { buildReporting } from './reporting.js';
import { resolveGeometry, type Geometry } from './geometry.js';
import { buildDeviceLearning, fanOut, fixedModelDaemon, learnsDevice, stateDirOf, type DeviceLearning } from './learning.js';
import { PipelineModels, scoringModel } from './models.js';

export interface PipelineOptions {
  config: Config;
  log: Logger;
  counters?: Counters;
  clock?: Clock;
  /** Standard input, for the stdin source and `replay -`. */
  stdin: Readable;
  /** Builds the source instead of the configured one (replay uses it). */
  source?: (sink: LineSink) => EventSource;
  /** Where the compiled binary keeps its embedded model, policy and recording. */
  modelDefaults?: Parameters<typeof loadModel>[1];
  /** Told of every flagged process (replay's summary of what was caught). */
  onFlag?: (process: ProcessInfo, kind: 'anomaly' | 'new_program') => void;
  /** Learn the device (default: learnsDevice(config)); replay never does. */
  learning?: boolean;
}

/** The wired stages; `Pipeline` starts them in order. */
export interface PipelineParts {
  counters: Counters;
  model: LoadedModel;
  geometry: Geometry;
  source: EventSource;
  tracker: Tracker;
  detector: Detector;
  alerter: Alerter;
  store: SqliteStore;
  /** Reads the operators' allowances at start. */
  allowances: Lifecycle;
  /** What the alerter writes through: keeps alerts in memory while the database refuses writes. */
  alertBuffer: BufferedAlertStore;
  reporters: Reporting;
  /** The operators' commands (MQTT `cmd`, and the CLI's through the database). */
  commands: Commands;
  /** The learning lifecycle, when the daemon learns the device. */
  device: DeviceLearning | undefined;
  /** The MQTT reporter, when ARGOS_MQTT_URL is set. */
  mqtt: MqttReporter | undefined;
  retention: RetentionTask;
  health: HealthServer;
  metrics: ArgosMetrics;
  clock: Clock;
  /** True while the source delivers events (or a finite one ended normally). */
  sourceAlive: () => boolean;
  log: Logger;
}

/** Everything the daemon runs, built and wired but not started. */
export class Pipeline implements Lifecycle {
  readonly counters: Counters;
  readonly model: LoadedModel;
  readonly geometry: Geometry;
  readonly source: EventSource;
  readonly tracker: Tracker;
  readonly detector: Detector;
  readonly alerter: Alerter;
  readonly store: SqliteStore;
  readonly alertBuffer: BufferedAlertStore;
  readonly reporters: Reporting;
  readonly mqtt: MqttReporter | undefined;
  readonly commands: Commands;
  /** The learning lifecycle (learner, recorder, model versions), when the daemon learns the device. */
  readonly device: DeviceLearning | undefined;
  readonly health: HealthServer;
  readonly metrics: ArgosMetrics;
  /** For the systemd watchdog: false when the source has stalled. */
  readonly healthy: () => boolean;
  private readonly group: LifecycleGroup;
  private readonly clock: Clock;

  constructor(p: PipelineParts) {
    this.healthy = p.sourceAlive;
    this.clock = p.clock;
    this.mqtt = p.mqtt;
    this.commands = p.commands;
    this.device = p.device;
    ({ counters: this.counters, model: this.model, geometry: this.geometry, source: this.source, tracker: this.tracker } = p);
    ({ detector: this.detector, alerter: this.alerter, store: this.store, reporters: this.reporters, health: this.health, metrics: this.metrics } = p);
    this.alertBuffer = p.alertBuffer;
    this.group = new LifecycleGroup(
      [
        { name: 'store', part: p.store },
        { name: 'alert buffer', part: p.alertBuffer },
        { name: 'allowances', part: p.allowances },
        { name: 'retention', part: p.retention },
        { name: 'reporters', part: p.reporters },
        { name: 'alerter', part: p.alerter },
        { name: 'detector', part: p.detector },
        ...(p.device ? [{ name: 'baseline', part: p.device.recorderPart }] : []),
        { name: 'tracker', part: p.tracker },
        ...(p.device ? [{ name: 'learning', part: p.device.learner }] : []),
        { name: 'health', part: p.health },
        { name: 'source', part: p.source },
      ],
      p.log,
    );
  }

  start(): Promise<void> {
    return this.group.start();
  }

  /**
   * Stops what started, in reverse; then closes the classifier even when the detector never
   * started (a failed start must not leave its worker threads keeping the process alive).
   */
  async stop(): Promise<void> {
    await this.group.stop();
    await this.detector.stop();
  }

  /**
   * After a finite source ended: score what is queued, then wait (bounded) until the
   * reporters delivered every stored alert. Resolves true when everything was delivered.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = this.clock.monotonic() + timeoutMs;
    // The recording ended: what is still live is scored as if it had exited.
    this.tracker.flush();
    await this.detector.drain(timeoutMs);
    // Closes open (throttling) alerts, so their final counts are stored and queued.
    await this.alerter.stop();
    return this.reporters.drain(Math.max(0, deadline - this.clock.monotonic()));
  }
}

function allWorkersDead(h: ClassifierHealth): boolean {
  return h.engines > 0 && h.dead === h.engines;
}

/** How long a live source may deliver nothing before /healthz calls it failing. */
export const SOURCE_IDLE_LIMIT_MS = 120_000;

/** The model that watches at start: the device's installed version, else the generic one. */
async function initialModel(o: PipelineOptions, models: ModelStore | undefined): Promise<{ version: number | undefined; model: LoadedModel }> {
  const { config, log } = o;
  const installed = models?.current();
  if (installed !== undefined) {
    try {
      return { version: installed.version, model: await loadModel({ dir: installed.dir }) };
    } catch (e) {
      log.error({ err: e, version: installed.version }, 'the installed device model cannot be loaded; the generic model watches until a new one is trained');
    }
  }
  return { version: undefined, model: await loadModel({ dir: config.modelDir, modelPath: config.modelPath, mappingPath: config.mappingPath }, o.modelDefaults) };
}

/** Loads the model and builds every stage from the configuration. */
export async function buildPipeline(o: PipelineOptions): Promise<Pipeline> {
  const { config, log } = o;
  const counters = o.counters ?? new Counters();
  const clock = o.clock ?? systemClock;
  const timers = systemTimers;
  const node = config.nodeName ?? 'unknown';
  const learning = o.learning ?? learnsDevice(config);
  // Created when the learner starts, after the database opened.
  const models = learning ? new ModelStore(stateDirOf(config)) : undefined;
  const initial = await initialModel(o, models);
  const model = initial.model;
  const geometry = resolveGeometry(config, model.card);
  log.info({ model: model.card.name, version: initial.version ?? 0, files: model.files, ...geometry, learning }, 'model loaded');

  const store = new SqliteStore({ path: config.dbPath, clock, setAsideUnusable: true, log: log.child({ module: 'store' }) });
  const allowances = new Allowances(store);
  const fixed = fixedModelDaemon({ node, clock, model: () => ({ name: model.card.name }), allowancesChanged: () => allowances.reload() });
  // Bound late: the learner exists once every stage it swaps models in does.
  let learner: Learner | undefined;
  let recorder: BaselineRecorder | undefined;
  const commands = new Commands({
    store,
    node,
    clock,
    maxBaselineCalls: config.baselineSize,
    live: {
      relearn: () => (learner ? learner.relearn() : fixed.relearn()),
      status: () => (learner ? learner.status() : fixed.status()),
      allowancesChanged: () => allowances.reload(),
    },
  });
  const { reporting: reporters, mqtt } = buildReporting({ config, store, counters, log, onCommand: (payload) => commands.runMessage(payload) });
  const alertBuffer = new BufferedAlertStore({ inner: store, log: log.child({ module: 'store' }), onStored: () => reporters.wake() });
  const alerter = new Alerter({
    store: alertBuffer,
    reporters: reporters.names,
    node,
    model: { name: model.card.name, threshold: model.card.threshold },
    threshold: config.threshold,
    throttleWindowMs: config.throttleWindow,
    throttleMax: config.throttleMax,
    counters,
    log: log.child({ module: 'alerter' }),
    onQueued: () => reporters.wake(),
    onFlag: (p, kind, alertId, window) => {
      // What the device's own model flags is held back from the baseline until an operator
      // allows it: an anomalous window's calls, or all of a new program. While the device is
      // learnt, what the generic model flags is reported but still learned: it does not know
      // the device, and holding back its false alarms (a service it finds odd) would keep the
      // device's model from ever learning them (README, "the first day of a device").
      if (learner !== undefined && learner.version > 0) recorder?.flag(p.execId, alertId, window?.end === undefined ? undefined : { end: window.end, length: window.tokens.length });
      o.onFlag?.(p, kind);
    },
    suppress: {
      anomaly: (p, program, score) => allowances.coversAnomaly(program, p.binary, score),
      newProgram: (p, program) => allowances.coversProgram(program, p.binary),
    },
    clock,
  });
  const scoring = await scoringModel(model, config, { log, timers, learning: learning && initial.version === undefined });
  try {
    const registry = new Registry();
    // Gauges are read at scrape time, after every stage below exists.
    const metrics = createMetrics({
      registry,
      counters,
      node: config.nodeName,
      trackedProcesses: () => tracker.size,
      queueDepth: () => detector.queued,
      outboxDepth: () => Object.fromEntries(reporters.names.map((n) => [n, store.outboxDepth(n)])),
      alertBuffer: () => alertBuffer.status(),
      ...(learning
        ? {
            learning: () => {
              const l = learner as Learner;
              return { state: l.state, version: l.version, progress: l.progress, baselineTraces: store.baselineStats().traces, trainings: l.trainings };
            },
          }
        : {}),
    });
    const detector = new Detector({
      model: scoring,
      sink: alerter,
      counters,
      log: log.child({ module: 'detector' }),
      batchSize: config.batchSize,
      queueMax: config.queueMax,
      drainTimeoutMs: config.drainTimeout,
      onBatch: (ms, size) => metrics.observeClassification(ms / 1000, size),
    });
    const newPrograms = new NewProgramWatch({ sink: alerter, allow: config.newProgramAllow, known: model.card.programs });
    const tracker = new Tracker({
      ...geometry,
      maxProcesses: config.maxProcesses,
      sink: detector,
      counters,
      clock,
      timers,
      // Events are tokenized in the universal vocabulary; windows are put into the model's tokens.
      tokenMap: tokenMap(Tokenizer.fromMapping(model.mapping)),
      // A recording replayed at full speed has no real time between its events: no idle flush.
      idleFlushMs: config.source === 'replay' && config.replaySpeed === 'max' ? 0 : config.idleFlush,
      onExec: (p) => newPrograms.exec(p),
      // The tracker and the parser name their module themselves.
      log,
    });
    let device: DeviceLearning | undefined;
    if (models !== undefined) {
      const switcher = new PipelineModels({ config, models, generic: () => loadModel({}, o.modelDefaults), detector, tracker, alerter, newPrograms, log, initial });
      device = buildDeviceLearning({
        config,
        store,
        models,
        geometry,
        switcher,
        counters,
        clock,
        timers,
        log,
        onState: (state) => {
          mqtt?.publishState(state);
          log.info({ state: state.state, model: state.model, learning: state.learning }, 'daemon state');
        },
        onExternalChange: () => allowances.reload(),
      });
      learner = device.learner;
      recorder = device.recorder;
    }
    const parser = new Parser({
      handler: recorder === undefined ? tracker : fanOut(tracker, recorder),
      tokenizer: universalVocabulary().tokenizer,
      counters,
      log,
      clock,
    });
    const source = o.source ? o.source(parser) : createSource(config, { sink: parser, logger: log, counters, clock, timers, stdin: o.stdin, policyPath: shippedPolicy });
    let finished = false;
    source.done.then(
      () => (finished = true),
      () => undefined,
    );
    const classifierHealth = (): ClassifierHealth => detector.current.classifier.health?.() ?? { engines: 0, dead: 0, restarts: 0 };
    const sourceProbe = progressProbe({ name: 'source', critical: true, value: () => counters.events + counters.malformed, maxIdleMs: SOURCE_IDLE_LIMIT_MS, clock, what: 'events', finished: () => finished });
    const probes: HealthProbe[] = [
      sourceProbe,
      modelProbe({ name: 'model', failedBatches: () => detector.stats.failedBatches, batches: () => detector.stats.batches, workers: classifierHealth }),
      databaseProbe({ path: config.dbPath, usedBytes: () => store.usedBytes() }),
      alertStorageProbe({ status: () => alertBuffer.status() }),
    ];
    if (device) probes.push(device.probe);
    if (mqtt) {
      probes.push(reporterProbe({ name: 'mqtt', connected: () => mqtt.connected, depth: () => store.outboxDepth('mqtt') }));
    }
    const health = new HealthServer({ address: config.httpAddress, registry, probes, log: log.child({ module: 'health' }) });
    const retention = new RetentionTask({ store, maxAgeMs: config.retentionAge, maxBytes: config.retentionSize, log: log.child({ module: 'retention' }), snapshot: () => counters.snapshot(), clock });
    const allowancesPart: Lifecycle = {
      start: () => {
        allowances.reload();
        return Promise.resolve();
      },
      stop: () => Promise.resolve(),
    };
    return new Pipeline({
      counters,
      model,
      geometry,
      source,
      tracker,
      detector,
      alerter,
      store,
      alertBuffer,
      allowances: allowancesPart,
      reporters,
      mqtt,
      retention,
      health,
      metrics,
      clock,
      commands,
      device,
      // The systemd watchdog restarts a daemon whose source stalled or whose classifier lost every worker thread.
      sourceAlive: () => !sourceProbe.stalled() && !allWorkersDead(classifierHealth()),
      log,
    });
  } catch (e) {
    // Nothing else holds the classifier yet: close its worker threads, or they keep the process alive.
    await scoring.classifier.close().catch(() => undefined);
    throw e;
  }
}
