// Prometheus metrics: the shared Counters read at scrape time, gauges asked of their owners
// at scrape time, and the classification latency histogram fed by the detector.
import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { Counters } from '../core/counters.js';
import { VERSION } from '../core/version.js';

type CounterKey = { [K in keyof Counters]: Counters[K] extends number ? K : never }[keyof Counters];

/** Every numeric field of Counters as a Prometheus counter (the type makes a new field need an entry). */
const COUNTERS: Record<CounterKey, { name: string; help: string }> = {
  events: { name: 'argos_events_total', help: 'Event lines read from the source.' },
  malformed: { name: 'argos_malformed_events_total', help: 'Lines that were not valid events.' },
  ignored: { name: 'argos_ignored_events_total', help: 'Valid events of types Argos does not use.' },
  syscalls: { name: 'argos_syscalls_total', help: 'Syscall events turned into model tokens.' },
  unknownSyscalls: { name: 'argos_unknown_syscalls_total', help: 'Syscall ids missing from the ABI table.' },
  execs: { name: 'argos_process_execs_total', help: 'Process executions seen.' },
  exits: { name: 'argos_process_exits_total', help: 'Process exits seen.' },
  processes: { name: 'argos_processes_seen_total', help: 'Distinct processes seen.' },
  evicted: { name: 'argos_processes_evicted_total', help: 'Processes dropped from tracking because the tracker was full.' },
  suppressed: { name: 'argos_suppressed_total', help: 'Anomalies and new programs an operator allowed (not alerted until the next training).' },
  idleFlushes: { name: 'argos_idle_flushes_total', help: 'Windows cut from processes that went quiet (ARGOS_IDLE_FLUSH).' },
  newPrograms: { name: 'argos_new_program_alerts_total', help: 'new_program alerts raised: first starts of programs the model never saw.' },
  windows: { name: 'argos_windows_total', help: 'Windows cut from process syscall streams.' },
  classified: { name: 'argos_windows_classified_total', help: 'Windows scored by the model.' },
  shed: { name: 'argos_windows_shed_total', help: 'Windows dropped because the classifier could not keep up.' },
  classifyFailed: { name: 'argos_classify_failures_total', help: 'Windows the classifier failed to score.' },
  anomalies: { name: 'argos_anomalies_total', help: 'Windows scoring at or above the threshold.' },
  alerts: { name: 'argos_alerts_total', help: 'Alerts stored (after throttling).' },
  throttled: { name: 'argos_alerts_throttled_total', help: 'Anomalies folded into an earlier alert.' },
  sourceRestarts: { name: 'argos_source_restarts_total', help: 'Restarts of the event source (Tetragon, tetra, bpftrace, file tail).' },
};

export const COUNTER_METRICS = (Object.keys(COUNTERS) as CounterKey[]).map((key) => ({ key, ...COUNTERS[key] }));

/** Values that their owners know; each is asked at scrape time. */
export interface MetricSources {
  counters: Counters;
  /** Processes currently tracked. */
  trackedProcesses?: () => number;
  /** Windows waiting for the classifier. */
  queueDepth?: () => number;
  /** Undelivered messages per reporter (e.g. { mqtt: 3, ntfy: 0 }). */
  outboxDepth?: () => Record<string, number> | Promise<Record<string, number>>;
  /** Alerts kept in memory while the database refuses writes, and those given up. */
  alertBuffer?: () => { buffered: number; dropped: number };
  /** The learning lifecycle, when the daemon learns the device. */
  learning?: () => LearningMetrics;
}

/** What the learning lifecycle reports at scrape time. */
export interface LearningMetrics {
  state: 'learning' | 'training' | 'detecting';
  /** The device model version in use (0: the generic model). */
  version: number;
  /** Share of the learning period done (1 once a device model watches). */
  progress: number;
  /** Traces in the rolling baseline. */
  baselineTraces: number;
  /** Trainings so far (since start): installed and refused. */
  trainings: { installed: number; refused: number };
}

export interface MetricsOptions extends MetricSources {
  /** The registry to fill (one per daemon; never prom-client's global one). */
  registry: Registry;
  /** Node name, as a label on argos_info. */
  node?: string;
  /** Process metrics (CPU, memory, event loop); default true. */
  processMetrics?: boolean;
}

export interface ArgosMetrics {
  readonly registry: Registry;
  /** Records one classifier call: its duration and how many windows it scored. */
  observeClassification(seconds: number, windows: number): void;
}

export function createMetrics(opts: MetricsOptions): ArgosMetrics {
  const registers = [opts.registry];
  const { counters } = opts;
  for (const m of COUNTER_METRICS) {
    new Counter({
      name: m.name,
      help: m.help,
      registers,
      collect() {
        this.reset();
        this.inc(counters[m.key]);
      },
    });
  }
  new Gauge({
    name: 'argos_info',
    help: 'Version and runtime of this Argos process (value 1).',
    labelNames: ['version', 'runtime', 'node'],
    registers,
    collect() {
      const runtime = typeof process.versions.bun === 'string' ? `bun-${process.versions.bun}` : `node-${process.versions.node}`;
      this.reset();
      this.set({ version: VERSION, runtime, node: opts.node ?? '' }, 1);
    },
  });
  const { trackedProcesses, queueDepth, outboxDepth, alertBuffer } = opts;
  const scraped = (name: string, help: string, read: (() => number) | undefined) => {
    if (!read) return;
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  };
  scraped('argos_tracked_processes', 'Processes currently tracked.', trackedProcesses);
  scraped('argos_classifier_queue_depth', 'Windows waiting for the classifier.', queueDepth);
  if (alertBuffer) {
    scraped('argos_alerts_buffered', 'Alert writes kept in memory because the database refuses writes (disk full).', () => alertBuffer().buffered);
    new Counter({
      name: 'argos_alerts_lost_total',
      help: 'Alerts given up because the in-memory buffer was full while the database refused writes.',
      registers,
      collect() {
        this.reset();
        this.inc(alertBuffer().dropped);
      },
    });
  }
  if (outboxDepth) {
    new Gauge({
      name: 'argos_outbox_depth',
      help: 'Messages stored but not yet delivered, per reporter.',
      labelNames: ['reporter'],
      registers,
      async collect() {
        const depths = await outboxDepth();
        this.reset();
        for (const [reporter, n] of Object.entries(depths)) this.set({ reporter }, n);
      },
    });
  }
  if (opts.learning) learningMetrics(registers, opts.learning);
  const latency = new Histogram({
    name: 'argos_classification_seconds',
    help: 'Time of one classifier call (a batch of windows).',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const batch = new Histogram({
    name: 'argos_classification_batch_windows',
    help: 'Windows per classifier call.',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers,
  });
  if (opts.processMetrics !== false) {
    try {
      collectDefaultMetrics({ register: opts.registry, prefix: 'argos_' });
    } catch {
      // Some runtimes lack parts of perf_hooks; process metrics are a nicety.
    }
  }
  return {
    registry: opts.registry,
    observeClassification(seconds, windows) {
      latency.observe(seconds);
      batch.observe(windows);
    },
  };
}

const STATES: readonly LearningMetrics['state'][] = ['learning', 'training', 'detecting'];

function learningMetrics(registers: Registry[], read: () => LearningMetrics): void {
  new Gauge({
    name: 'argos_state',
    help: 'The learning lifecycle: 1 for the state the daemon is in (learning, training, detecting).',
    labelNames: ['state'],
    registers,
    collect() {
      const now = read().state;
      for (const state of STATES) this.set({ state }, state === now ? 1 : 0);
    },
  });
  const gauge = (name: string, help: string, value: (m: LearningMetrics) => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(value(read()));
      },
    });
  };
  gauge('argos_model_version', 'The device model version that watches (0: the shipped generic model).', (m) => m.version);
  gauge('argos_learning_progress', 'Share of the learning period done (1 once a device model watches).', (m) => m.progress);
  gauge('argos_baseline_traces', 'Traces (processes and pieces of long-lived ones) in the rolling baseline.', (m) => m.baselineTraces);
  new Counter({
    name: 'argos_trainings_total',
    help: 'Trainings of the device model since start, by outcome (installed, refused).',
    labelNames: ['outcome'],
    registers,
    collect() {
      const t = read().trainings;
      this.reset();
      this.inc({ outcome: 'installed' }, t.installed);
      this.inc({ outcome: 'refused' }, t.refused);
    },
  });
}
