// The daemon's state as it last saved it, read without the daemon (`argos status`): the
// lifecycle record in the database and the model versions in the state folder.
import type { StatePayload } from '../core/mqtt.js';
import type { SqliteStore } from '../store/store.js';
import { DEFAULT_MIN_PROGRAM_CALLS, LIFECYCLE_KEY, learningProgress, readiness, type LifecycleRecord } from './lifecycle.js';
import type { ModelStore } from './model-store.js';

export interface SavedStatus {
  state: StatePayload;
  /** When the daemon saved it (absent: it never ran on this database). */
  savedAt: string | undefined;
  /** Operators' allowances in force (until the next training). */
  allowances: number;
  /** Traces held back from the baseline because their process alerted. */
  quarantined: number;
}

export function savedStatus(o: {
  store: Pick<SqliteStore, 'getLifecycle' | 'baselineStats' | 'programStats' | 'listAllowances' | 'quarantineStats'>;
  models: ModelStore;
  node: string;
  now: number;
  learnPeriodMs: number;
  /** The daemon learns the device (false: the configured or generic model only). */
  learning: boolean;
  /** The name of the model that watches when no device version is in use. */
  genericName: string;
}): SavedStatus {
  const record = o.store.getLifecycle<LifecycleRecord>(LIFECYCLE_KEY);
  const installed = o.learning ? o.models.current() : undefined;
  const state: StatePayload = {
    node: o.node,
    time: record?.savedAt ?? new Date(o.now).toISOString(),
    state: !o.learning ? 'detecting' : (record?.state ?? (installed === undefined ? 'learning' : 'detecting')),
    model: installed === undefined ? { name: o.genericName, version: 0 } : { name: installed.card.name, version: installed.version },
    programs: Object.keys(installed?.card.programs ?? {}).length,
  };
  if (o.learning && installed === undefined) {
    const learnedMs = record?.learnedMs ?? 0;
    state.learning = learningProgress({
      since: record?.learningSince ?? state.time,
      learnedMs,
      periodMs: o.learnPeriodMs,
      traces: o.store.baselineStats().traces,
      readiness: readiness(new Map(Object.entries(record?.seen ?? {})), learnedMs, o.learnPeriodMs, () => o.store.programStats(), DEFAULT_MIN_PROGRAM_CALLS),
    });
  }
  if (record?.lastTraining !== undefined) state.lastTraining = record.lastTraining;
  return { state, savedAt: record?.savedAt, allowances: o.store.listAllowances().length, quarantined: o.store.quarantineStats().traces };
}
