// What the hub stores and serves: the messages it ingests (one record per MQTT message that
// passed validation) and the rows it reads back.
import type { Alert, AlertKind } from '../../core/alert.js';
import type { CommandResult, NodeCommand, StatePayload, StatsPayload } from '../../core/mqtt.js';

interface RecordBase {
  /** The node named by the topic. */
  node: string;
  /** When the hub received it (ms). */
  received: number;
}

export type IngestRecord =
  | (RecordBase & { kind: 'alert'; alert: Alert })
  | (RecordBase & { kind: 'status'; status: 'online' | 'offline'; /** Read from the broker's retained copy at start: fills in only a node whose status is unknown. */ retained?: boolean })
  | (RecordBase & { kind: 'state'; state: StatePayload })
  | (RecordBase & { kind: 'stats'; stats: StatsPayload })
  | (RecordBase & { kind: 'result'; result: CommandResult & { id: string } });

export type IngestKind = IngestRecord['kind'];

/** What one write did. */
export interface WriteSummary {
  /** Alerts stored for the first time. */
  inserted: number;
  /** Alerts stored before whose count grew (the row was rewritten). */
  updated: number;
  /** Alerts stored before with the same or a larger count, or an id another node owns (nothing changed). */
  duplicates: number;
}

/** A node as the API and dashboard show it. */
export interface HubNode {
  node: string;
  status: 'online' | 'offline' | 'unknown';
  /** ISO time of the last status change, when known. */
  since: string | null;
  firstSeen: string;
  lastSeen: string;
  /** The learning state and model, from the node's state topic. */
  state: StatePayload['state'] | null;
  model: StatePayload['model'] | null;
  stateDetail: StatePayload | null;
  /** Alerts whose time is within the last 24 hours. */
  alerts24h: number;
  stats: StatsPayload | null;
}

export interface AlertFilter {
  node?: string;
  program?: string;
  kind?: AlertKind;
  /** Alert time at or after (ms). */
  since?: number;
  /** Alert time strictly before (ms): the next page starts at the last alert's time. */
  before?: number;
  limit: number;
}

export interface TimelineBucket {
  /** Start of the bucket (ms). */
  t: number;
  anomaly: number;
  new_program: number;
}

export interface StoredCommand {
  /** Null for a result of a command another tool sent. */
  command: NodeCommand | null;
  node: string;
  created: number;
  /** Null until the node answered. */
  result: CommandResult | null;
  resultTime: number | null;
}

/** What removal by age did. */
export interface HubRetentionSummary {
  alerts: number;
  commands: number;
}
