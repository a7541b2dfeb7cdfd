// What a node publishes, read defensively: the topic names the node and the kind, the
// payload must be the contract's shape (src/core/mqtt.ts, src/core/alert.ts) within size
// limits. Anything else is refused with a reason the ingest counts and logs. Strings are kept
// as published (stored as data, never interpreted); the dashboard renders them as text.
import { z } from 'zod';
import { normaliseAlert, type Alert } from '../../core/alert.js';
import type { CommandResult, StatePayload, StatsPayload } from '../../core/mqtt.js';
import { topicSegment } from '../../core/sanitize.js';
import type { IngestRecord } from '../store/records.js';

/** Largest payload the hub reads; a node's alert is a few KiB. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** The topic kinds the hub subscribes to. */
export const INGEST_TOPICS = ['status', 'alert', 'stats', 'state', 'cmd/result'] as const;
export type IngestTopic = (typeof INGEST_TOPICS)[number];

export type RefusalReason = 'topic' | 'too_large' | 'not_json' | 'invalid' | 'node_mismatch';
export const REFUSAL_REASONS: readonly RefusalReason[] = ['topic', 'too_large', 'not_json', 'invalid', 'node_mismatch'];

export type ReadResult = { ok: true; record: IngestRecord } | { ok: false; reason: RefusalReason; detail: string; node?: string };

const text = (max: number) => z.string().max(max);
const isoTime = z
  .string()
  .max(64)
  .refine((s) => Number.isFinite(Date.parse(s)), 'must be an ISO 8601 time');
const int = z.number().int();

const processSchema = z.looseObject({
  pid: int,
  exec_id: text(512),
  binary: text(4096),
  arguments: text(16_384),
  parent: z.looseObject({ pid: int, exec_id: text(512), binary: text(4096) }).optional(),
});
const podSchema = z.looseObject({ namespace: text(256), name: text(256), container: text(256).optional(), image: text(1024).optional() });
/** Alert and command ids: printable ASCII (the daemon's are UUIDs). */
const id = z.string().regex(/^[\x21-\x7e]{1,128}$/, 'must be 1 to 128 printable ASCII characters');
const common = {
  id,
  node: text(256),
  time: isoTime,
  process: processSchema,
  pod: podSchema.optional(),
  model: text(256),
  count: int.min(1),
};
const priority = z.union([z.literal(3), z.literal(4), z.literal(5)]);
// Alerts from daemons older than alert kinds have no kind, program, priority or why: read as anomalies.
const anomalySchema = z.looseObject({
  ...common,
  kind: z.literal('anomaly').optional(),
  program: text(8192).optional(),
  priority: priority.optional(),
  score: z.number(),
  threshold: z.number(),
  window: z.looseObject({ seq: int.min(0), length: int.min(0) }),
  why: z.array(z.looseObject({ calls: text(8192), surprisal: z.number() })).max(64).optional(),
});
const newProgramSchema = z.looseObject({ ...common, kind: z.literal('new_program'), program: text(8192), priority, writable: z.boolean(), reason: text(4096) });
const alertSchema = z.union([newProgramSchema, anomalySchema]);

const stateSchema = z.looseObject({
  node: text(256),
  time: isoTime,
  state: z.enum(['learning', 'training', 'detecting']),
  model: z.looseObject({ name: text(256), version: int.min(0) }),
  programs: int.min(0),
  learning: z.looseObject({}).optional(),
  lastTraining: z.looseObject({}).optional(),
});
const statsSchema = z.looseObject({
  node: text(256),
  time: isoTime,
  uptime: z.number(),
  outbox: z.number(),
  counters: z.record(z.string().max(128), z.number()),
});
const resultSchema = z.looseObject({
  id,
  node: text(256),
  time: isoTime,
  command: z.enum(['allow', 'relearn', 'status']).nullable(),
  ok: z.boolean(),
  message: text(4096).optional(),
  error: text(4096).optional(),
  state: stateSchema.optional(),
});

/** `<prefix>/<node>/<kind>` → node and kind, or why the topic is not one of ours. */
export function parseTopic(prefix: string, topic: string): { node: string; kind: IngestTopic } | { error: string } {
  const p = `${prefix.replace(/\/+$/, '')}/`;
  if (!topic.startsWith(p)) return { error: 'outside the prefix' };
  const rest = topic.slice(p.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return { error: 'no node level' };
  const node = rest.slice(0, slash);
  const kind = rest.slice(slash + 1);
  if (!(INGEST_TOPICS as readonly string[]).includes(kind)) return { error: 'not a node topic the hub reads' };
  // Node ids are what the daemon's topicSegment() makes: no spaces, controls or wildcards, at most 64 characters.
  if (topicSegment(node) !== node) return { error: 'the node level is not a valid node id' };
  return { node, kind: kind as IngestTopic };
}

function firstIssue(e: z.ZodError): string {
  const i = e.issues[0];
  return i ? `${i.path.join('.') || 'payload'}: ${i.message}` : 'invalid';
}

/** Reads one message into a record to store, or a refusal. */
export function readMessage(prefix: string, topic: string, payload: Uint8Array, received: number): ReadResult {
  const where = parseTopic(prefix, topic);
  if ('error' in where) return { ok: false, reason: 'topic', detail: where.error };
  const { node, kind } = where;
  if (payload.byteLength > MAX_PAYLOAD_BYTES) return { ok: false, reason: 'too_large', detail: `${payload.byteLength} bytes (at most ${MAX_PAYLOAD_BYTES})`, node };
  const body = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
  if (kind === 'status') {
    if (body !== 'online' && body !== 'offline') return { ok: false, reason: 'invalid', detail: 'status must be online or offline', node };
    return { ok: true, record: { kind: 'status', node, received, status: body } };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'not_json', detail: 'payload is not JSON', node };
  }
  const schema = kind === 'alert' ? alertSchema : kind === 'state' ? stateSchema : kind === 'stats' ? statsSchema : resultSchema;
  const r = schema.safeParse(raw);
  if (!r.success) return { ok: false, reason: 'invalid', detail: firstIssue(r.error), node };
  // The broker's topic permissions vouch for the topic, not for what the payload claims.
  if (topicSegment(r.data.node) !== node) return { ok: false, reason: 'node_mismatch', detail: 'the payload names another node than its topic', node };
  switch (kind) {
    case 'alert':
      return { ok: true, record: { kind: 'alert', node, received, alert: normaliseAlert(r.data as Alert) } };
    case 'state':
      return { ok: true, record: { kind: 'state', node, received, state: r.data as StatePayload } };
    case 'stats':
      return { ok: true, record: { kind: 'stats', node, received, stats: r.data as StatsPayload } };
    case 'cmd/result':
      return { ok: true, record: { kind: 'result', node, received, result: r.data as CommandResult & { id: string } } };
  }
}
