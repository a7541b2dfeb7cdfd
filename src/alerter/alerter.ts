// Turns verdicts into alerts: threshold, then throttling per binary (and pod).
//
// Throttling: the first anomaly of a key (binary + pod) raises an alert, stored and queued
// for every reporter at once. Further anomalies of the same key within `throttleWindowMs`
// of that alert fold into it (count + 1, score = the highest) until `throttleMax` repeats;
// the next one raises a new alert. Folded counts reach the store at each sweep (every
// `sweepMs`), without being sent. When the fold window closes, an alert whose count grew
// since it was sent is stored and queued once more with the same id and its final count:
// a consumer that keeps the latest message per id ends with the full count.
//
// Processes seen: each process is recorded once, when its first window is scored (also
// the ones that never alert), in batches at each sweep or before an alert that names it;
// its last sighting is refreshed at most once per `processRefreshMs`.
import type { Counters } from '../core/counters.js';
import type { Logger } from '../core/logger.js';
import type { Lifecycle, ProcessInfo, SyscallWindow, Verdict, VerdictSink } from '../core/types.js';
import { systemClock, type Clock, systemTimers, type Timers } from '../core/time.js';
import type { AlertStore, ProcessRecord } from '../core/storage.js';
import { anomalyPriority, capLength, MAX_ALERT_ARGUMENTS, uuidv7, type Alert, type AlertPod, type AlertProcess, type AnomalyAlert, type NewProgramAlert } from '../core/alert.js';
import { programKey } from '../core/program.js';

export interface AlerterOptions {
  store: AlertStore;
  /** Reporter names whose outboxes get every alert (e.g. `['mqtt', 'ntfy']`); may be empty. */
  reporters: readonly string[];
  node: string;
  /** From the model card: what verdicts that do not say are scored by (a verdict's own threshold and model win). */
  model: { name: string; threshold: number };
  /** Overrides the card's threshold (ARGOS_THRESHOLD) for verdicts that do not carry one. */
  threshold?: number;
  throttleWindowMs: number;
  throttleMax: number;
  counters: Counters;
  log: Logger;
  /** Called after an alert, or its final count, was stored and queued (wakes the outbox loops). */
  onQueued?: (alert: Alert) => void;
  /** Told of every flagged process and the alert it raised or folded into (the baseline holds its calls back; replay's summary). */
  onFlag?: (process: ProcessInfo, kind: Alert['kind'], alertId: string | undefined, window?: SyscallWindow) => void;
  /** Operators' allowances: an anomaly or a new program they cover is not alerted (counted as suppressed). */
  suppress?: { anomaly(process: ProcessInfo, program: string, score: number): boolean; newProgram(process: ProcessInfo, program: string): boolean };
  /** Starts of one new program within this time fold into its new_program alert (default 1 h). */
  newProgramWindowMs?: number;
  clock?: Clock;
  timers?: Timers;
  /** How often folded counts and processes are written and fold windows closed (default 1 s). */
  sweepMs?: number;
  /** Most processes remembered as recorded (least recent forgotten first; default 50 000). */
  maxRememberedProcesses?: number;
  processRefreshMs?: number;
  /** Most keys throttled at once; beyond it the oldest open alert is closed (default 10 000). */
  maxOpenAlerts?: number;
}

interface OpenAlert {
  alert: Alert;
  /** Monotonic ms: a fold window measures a duration, whatever the wall clock does. */
  openedAt: number;
  windowMs: number;
  /** Repeats folded in at most before a new alert is raised. */
  maxCount: number;
  /** Count last queued for the reporters. */
  sentCount: number;
  /** Count last written to the store. */
  storedCount: number;
}

export class Alerter implements VerdictSink, Lifecycle {
  /** The threshold of verdicts that do not carry their own. */
  readonly threshold: number;
  /** The model in use, named in new_program alerts. */
  private modelName: string;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly sweepMs: number;
  private readonly maxRemembered: number;
  private readonly refreshMs: number;
  private readonly maxOpen: number;
  private readonly open = new Map<string, OpenAlert>();
  /** exec_id → when last written to the store. Map order = least recently written first. */
  private readonly recorded = new Map<string, number>();
  private readonly pendingProcesses = new Map<string, ProcessRecord>();
  private timer: unknown;
  private running = false;

  constructor(private readonly o: AlerterOptions) {
    this.threshold = o.threshold ?? o.model.threshold;
    this.modelName = o.model.name;
    this.clock = o.clock ?? systemClock;
    this.timers = o.timers ?? systemTimers;
    this.sweepMs = o.sweepMs ?? 1000;
    this.maxRemembered = o.maxRememberedProcesses ?? 50_000;
    this.refreshMs = o.processRefreshMs ?? 3_600_000;
    this.maxOpen = o.maxOpenAlerts ?? 10_000;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.arm();
  }

  /** Closes every open alert (queuing final counts) and writes pending processes. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.guard('close open alerts', () => {
      for (const key of [...this.open.keys()]) this.close(key);
      this.flushProcesses();
    });
  }

  /** The model in use changed (a swap): new_program alerts name it. */
  setModelName(name: string): void {
    this.modelName = name;
  }

  /** Open (throttling) alerts, for tests and health. */
  get openAlerts(): number {
    return this.open.size;
  }

  verdict(v: Verdict): void {
    const now = this.clock.now();
    this.seen(v.window.process, now);
    const threshold = v.threshold ?? this.threshold;
    if (!(v.score >= threshold)) return; // NaN never alerts
    const p = v.window.process;
    if (this.o.suppress?.anomaly(p, programKey(p), v.score) === true) {
      this.o.counters.suppressed++;
      return;
    }
    this.o.counters.anomalies++;
    const key = throttleKey(p);
    const current = this.folding(key);
    if (current?.alert.kind === 'anomaly') {
      const a = current.alert;
      a.count++;
      a.score = Math.max(a.score, v.score);
      a.priority = anomalyPriority(a.score, a.threshold, a.count);
      this.o.counters.throttled++;
      this.o.onFlag?.(p, 'anomaly', a.id, v.window);
      return;
    }
    const raised = this.raise(key, () => this.makeAlert(v, threshold, now), this.o.throttleWindowMs, this.o.throttleMax);
    this.o.onFlag?.(p, 'anomaly', raised?.id, v.window);
  }

  /** A program the model never saw started (NewProgramWatch): one alert, further starts folded in. */
  newProgram(process: ProcessInfo, program: string, writable: string | undefined): void {
    const now = this.clock.now();
    this.seen(process, now);
    if (this.o.suppress?.newProgram(process, program) === true) {
      this.o.counters.suppressed++;
      return;
    }
    const key = `new\u0000${program}`;
    const current = this.folding(key);
    if (current !== undefined) {
      current.alert.count++;
      this.o.counters.throttled++;
      this.o.onFlag?.(process, 'new_program', current.alert.id);
      return;
    }
    const raised = this.raise(key, () => this.makeNewProgramAlert(process, program, writable, now), this.o.newProgramWindowMs ?? 3_600_000, Number.POSITIVE_INFINITY);
    this.o.counters.newPrograms++;
    this.o.onFlag?.(process, 'new_program', raised?.id);
  }

  /** The open alert of `key` while repeats still fold into it. */
  private folding(key: string): OpenAlert | undefined {
    const current = this.open.get(key);
    if (current === undefined) return undefined;
    return this.clock.monotonic() < current.openedAt + current.windowMs && current.alert.count <= current.maxCount ? current : undefined;
  }

  /** Stores and queues a new alert for `key` (closing the one before it), opening its fold window. */
  private raise(key: string, make: () => Alert, windowMs: number, maxCount: number): Alert | undefined {
    let raised: Alert | undefined;
    this.guard('store an alert', () => {
      if (this.open.has(key)) this.close(key);
      if (this.open.size >= this.maxOpen) this.close(this.open.keys().next().value as string);
      const alert = make();
      this.flushProcesses();
      this.o.store.saveAlert(alert, this.o.reporters);
      this.open.set(key, { alert, openedAt: this.clock.monotonic(), windowMs, maxCount, sentCount: 1, storedCount: 1 });
      this.o.counters.alerts++;
      const detail = alert.kind === 'anomaly' ? { score: alert.score } : { writable: alert.writable };
      this.o.log.warn({ alert: alert.id, kind: alert.kind, binary: alert.process.binary, pid: alert.process.pid, ...detail }, alert.kind === 'anomaly' ? 'anomalous process' : 'new program');
      this.o.onQueued?.(alert);
      raised = alert;
    });
    return raised;
  }

  /** Writes folded counts and processes, closes fold windows that ended. Runs on a timer. */
  sweep(): void {
    const now = this.clock.monotonic();
    this.guard('sweep', () => {
      for (const [key, a] of this.open) {
        if (now >= a.openedAt + a.windowMs) {
          this.close(key);
        } else if (a.alert.count !== a.storedCount) {
          this.o.store.updateAlert(a.alert, []);
          a.storedCount = a.alert.count;
        }
      }
      this.flushProcesses();
    });
  }

  private arm(): void {
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.sweep();
      if (this.running) this.arm();
    }, this.sweepMs);
  }

  /** Ends the fold window of `key`, storing and queuing its final count if it grew. */
  private close(key: string): void {
    const a = this.open.get(key);
    if (!a) return;
    this.open.delete(key);
    if (a.alert.count !== a.sentCount) {
      this.o.store.updateAlert(a.alert, this.o.reporters);
      this.o.onQueued?.(a.alert);
    } else if (a.alert.count !== a.storedCount) {
      this.o.store.updateAlert(a.alert, []);
    }
  }

  private makeNewProgramAlert(p: ProcessInfo, program: string, writable: string | undefined, now: number): NewProgramAlert {
    const alert: NewProgramAlert = {
      id: uuidv7(now),
      node: this.o.node,
      time: new Date(now).toISOString(),
      kind: 'new_program',
      process: alertProcess(p),
      program,
      model: this.modelName,
      priority: writable === undefined ? 4 : 5,
      writable: writable !== undefined,
      reason: writable === undefined ? 'first start of a program the model never saw' : `first start of a program the model never saw, run from ${writable}`,
      count: 1,
    };
    const pod = alertPod(p);
    if (pod !== undefined) alert.pod = pod;
    return alert;
  }

  private makeAlert(v: Verdict, threshold: number, now: number): AnomalyAlert {
    const p = v.window.process;
    const alert: AnomalyAlert = {
      id: uuidv7(now),
      node: this.o.node,
      time: new Date(now).toISOString(),
      kind: 'anomaly',
      process: alertProcess(p),
      program: programKey(p),
      model: v.model ?? this.modelName,
      priority: anomalyPriority(v.score, threshold, 1),
      score: v.score,
      threshold,
      window: { seq: v.window.seq, length: v.window.tokens.length },
      why: v.why ?? [],
      count: 1,
    };
    const pod = alertPod(p);
    if (pod !== undefined) alert.pod = pod;
    return alert;
  }

  private seen(p: ProcessInfo, now: number): void {
    const last = this.recorded.get(p.execId);
    if (last !== undefined && now - last < this.refreshMs) return;
    const pending = this.pendingProcesses.get(p.execId);
    if (pending) {
      pending.lastSeen = now;
      return;
    }
    this.pendingProcesses.set(p.execId, { process: p, firstSeen: now, lastSeen: now });
  }

  private flushProcesses(): void {
    if (this.pendingProcesses.size === 0) return;
    const records = [...this.pendingProcesses.values()];
    this.o.store.upsertProcesses(records);
    this.pendingProcesses.clear();
    for (const r of records) {
      this.recorded.delete(r.process.execId);
      this.recorded.set(r.process.execId, r.lastSeen);
    }
    while (this.recorded.size > this.maxRemembered) this.recorded.delete(this.recorded.keys().next().value as string);
  }

  /** Store failures (disk full, locked) are logged, never thrown into the detector. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.o.log.error({ err: e }, `cannot ${what}: ${(e as Error).message}`);
    }
  }
}

function alertProcess(p: ProcessInfo): AlertProcess {
  const out: AlertProcess = { pid: p.pid, exec_id: p.execId, binary: p.binary, arguments: capLength(p.arguments, MAX_ALERT_ARGUMENTS) };
  if (p.parent !== undefined) out.parent = { pid: p.parent.pid, exec_id: p.parent.execId, binary: p.parent.binary };
  return out;
}

function alertPod(p: ProcessInfo): AlertPod | undefined {
  if (p.pod === undefined) return undefined;
  const pod: AlertPod = { namespace: p.pod.namespace, name: p.pod.name };
  if (p.pod.container !== undefined) pod.container = p.pod.container;
  if (p.pod.image !== undefined) pod.image = p.pod.image;
  return pod;
}

/** Throttling key: the binary, and the pod when known. */
export function throttleKey(p: ProcessInfo): string {
  return p.pod ? `${p.binary}\u0000${p.pod.namespace}/${p.pod.name}` : p.binary;
}
