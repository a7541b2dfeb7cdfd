// What `argos learn` runs: the configured source feeding a baseline recorder that writes every
// process's syscalls into the database.
import type { Readable } from 'node:stream';
import type { Config } from '../config/load.js';
import { Counters } from '../core/counters.js';
import { LifecycleGroup } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { systemClock, systemTimers, type Clock } from '../core/time.js';
import type { EventSource } from '../core/types.js';
import { BaselineRecorder } from '../learn/recorder.js';
import { Parser } from '../parser/index.js';
import { shippedPolicy } from '../runtime/assets.js';
import { SqliteStore } from '../store/store.js';
import { createSource } from './sources.js';
import { universalVocabulary } from '../syscalls/universal.js';

export interface Learner {
  counters: Counters;
  store: SqliteStore;
  recorder: BaselineRecorder;
  source: EventSource;
  /** Store, then source; stopped in reverse. */
  group: LifecycleGroup;
}

export function buildLearner(config: Config, d: { log: Logger; stdin: Readable; clock?: Clock }): Learner {
  const clock = d.clock ?? systemClock;
  const counters = new Counters();
  const store = new SqliteStore({ path: config.dbPath, clock, setAsideUnusable: true, log: d.log.child({ module: 'store' }) });
  const { tokenizer, names } = universalVocabulary();
  const recorder = new BaselineRecorder({ store, names, counters, log: d.log.child({ module: 'learn' }), clock, timers: systemTimers, countProcesses: true });
  const parser = new Parser({ handler: recorder, tokenizer, counters, log: d.log, clock });
  const source = createSource(config, { sink: parser, logger: d.log, counters, clock, timers: systemTimers, stdin: d.stdin, policyPath: shippedPolicy });
  const group = new LifecycleGroup(
    [
      { name: 'store', part: store },
      { name: 'source', part: source },
    ],
    d.log,
  );
  return { counters, store, recorder, source, group };
}
