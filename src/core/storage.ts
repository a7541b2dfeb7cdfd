// What the stages need from storage, as narrow interfaces over the records they exchange.
// The SQLite store (src/store/) implements all of them; a stage depends only on its slice.
import type { Alert } from './alert.js';
import type { ProcessInfo } from './types.js';

/** A message waiting in the outbox of one reporter. */
export interface OutboxMessage {
  /** Outbox row id: increasing, so delivery follows it. */
  id: number;
  reporter: string;
  alertId: string;
  /** The alert JSON as it was when queued. */
  payload: string;
  attempts: number;
  created: number;
}

export interface ProcessRecord {
  process: ProcessInfo;
  firstSeen: number;
  lastSeen: number;
}

/** One recorded normal trace (a process, or a piece of a long-lived one) for on-device retraining. */
export interface BaselineTrace {
  execId: string;
  binary: string;
  /** The program key (core/program.ts); the binary when absent. */
  program?: string;
  startedAt: number;
  /** Syscall names separated by single spaces. */
  syscalls: string;
}

/** A trace held back from the baseline because its process alerted (until an operator allows it). */
export interface QuarantinedTrace extends BaselineTrace {
  alertId?: string;
}

/** What the alerter writes. All calls are synchronous. */
export interface AlertStore {
  /** Inserts the alert and one outbox row per reporter, in one transaction. */
  saveAlert(alert: Alert, reporters: readonly string[]): void;
  /** Rewrites a stored alert (count, score) and queues it again for `reporters` (may be none). */
  updateAlert(alert: Alert, reporters: readonly string[]): void;
  upsertProcesses(records: readonly ProcessRecord[]): void;
}

/** What the reporters' delivery loops read and settle. */
export interface OutboxStore {
  /** The oldest pending messages of a reporter, in queue order. */
  pendingOutbox(reporter: string, limit: number): OutboxMessage[];
  markDelivered(ids: readonly number[]): void;
  /** Counts a failed attempt; with `dead`, the message is given up (kept, not sent again). */
  markFailed(id: number, error: string, dead: boolean): void;
  /** Pending messages, for one reporter or all. */
  outboxDepth(reporter?: string): number;
}

/** Where the baseline recorder writes the device's normal behaviour. */
export interface BaselineStore {
  /** Appends traces; with `maxCalls`, the oldest traces of the largest programs go until the baseline holds at most that many calls. */
  appendBaseline(traces: readonly BaselineTrace[], maxCalls?: number): void;
  /** Holds traces back (their processes alerted). Bounded: the oldest go beyond `maxCalls`. */
  quarantine(traces: readonly QuarantinedTrace[], maxCalls?: number): void;
}
