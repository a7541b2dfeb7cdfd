// The MQTT contract in one place: every topic this node publishes, its payload type and
// how it is published. `<prefix>/<node>/<kind>`.
import type { Alert } from './alert.js';
import { topicSegment } from './sanitize.js';

/** Counters published periodically. */
export interface StatsPayload {
  node: string;
  time: string;
  /** Seconds since the reporter started. */
  uptime: number;
  /** Pending outbox messages (all reporters). */
  outbox: number;
  counters: Record<string, number>;
}

export interface MqttTopicPayloads {
  /** Plain text; retained; `offline` is also the Last Will. */
  status: 'online' | 'offline';
  /** JSON of the alert exactly as stored (an update repeats the id with a larger count). */
  alert: Alert;
  /** JSON. */
  stats: StatsPayload;
}

export type TopicKind = keyof MqttTopicPayloads;

export const TOPIC_OPTIONS: { readonly [K in TopicKind]: { qos: 0 | 1; retain: boolean } } = {
  status: { qos: 1, retain: true },
  alert: { qos: 1, retain: false },
  stats: { qos: 0, retain: false },
};

/** The topic of `kind` for `node`; refuses wildcards in the prefix. */
export function topicFor(prefix: string, node: string, kind: TopicKind): string {
  const p = prefix.replace(/\/+$/, '');
  if (/[+#]/.test(p) || p === '') throw new Error(`MQTT topic prefix "${prefix}" must be non-empty and free of + and #`);
  return `${p}/${topicSegment(node)}/${kind}`;
}

export function encodePayload<K extends TopicKind>(kind: K, payload: MqttTopicPayloads[K]): string {
  return kind === 'status' ? String(payload) : JSON.stringify(payload);
}
