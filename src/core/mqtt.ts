// The MQTT contract in one place: every topic of a node, its payload type and how it is
// published. `<prefix>/<node>/<kind>`; the hub reads what nodes publish and writes `cmd`.
import { readFileSync } from 'node:fs';
import type { Alert } from './alert.js';
import { z } from 'zod';
import { escapeJsonForTerminal, topicSegment } from './sanitize.js';

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

/** Where the daemon is in its life (DESIGN.md "Programs and the device's own model"). */
export type DaemonState = 'learning' | 'training' | 'detecting';

/** The daemon's state: retained on `<prefix>/<node>/state`, the answer to `status`, `argos status --json`. */
export interface StatePayload {
  node: string;
  time: string;
  state: DaemonState;
  /** The model in use: its name, and its version in the state folder (0 = the shipped generic model). */
  model: { name: string; version: number };
  /** Programs the model in use knows (0 for the generic model). */
  programs: number;
  /** While learning: how far, by the rule in the README ("the first day of a device"). */
  learning?: { since: string; progress: number; traces: number; programs: number; ready: number };
  /** The last training, successful or refused. */
  lastTraining?: { time: string; ok: boolean; version?: number; reason?: string; heldOutFpr?: number; programs?: number; traces?: number; seconds?: number };
}

/** A command to a node on `<prefix>/<node>/cmd` (JSON). `id` is echoed in the result. */
export type NodeCommand =
  | { id: string; command: 'allow'; alert: string }
  | { id: string; command: 'allow'; program: string }
  | { id: string; command: 'relearn' }
  | { id: string; command: 'status' };

/** The answer on `<prefix>/<node>/cmd/result`. A command without a valid shape gets ok false and changes nothing. */
export interface CommandResult {
  /** The command's id; null when the message had none (or was not JSON). */
  id: string | null;
  node: string;
  time: string;
  command: NodeCommand['command'] | null;
  ok: boolean;
  /** What was done, in words. */
  message?: string;
  /** Why nothing was done. */
  error?: string;
  /** For `status`, and after `relearn`: the state. */
  state?: StatePayload;
}

export interface MqttTopicPayloads {
  /** Plain text; retained; `offline` is also the Last Will. */
  status: 'online' | 'offline';
  /** JSON of the alert exactly as stored (an update repeats the id with a larger count). */
  alert: Alert;
  /** JSON. */
  stats: StatsPayload;
  /** JSON; retained. */
  state: StatePayload;
  /** JSON; the node subscribes to it. */
  cmd: NodeCommand;
  /** JSON; the node publishes it. */
  'cmd/result': CommandResult;
}

export type TopicKind = keyof MqttTopicPayloads;

export const TOPIC_OPTIONS: { readonly [K in TopicKind]: { qos: 0 | 1; retain: boolean } } = {
  status: { qos: 1, retain: true },
  alert: { qos: 1, retain: false },
  stats: { qos: 0, retain: false },
  state: { qos: 1, retain: true },
  cmd: { qos: 1, retain: false },
  'cmd/result': { qos: 1, retain: false },
};

/** Longest command message a node reads. */
export const MAX_COMMAND_BYTES = 4096;

const commandId = z.string().min(1).max(128);
const commandSchema = z.union([
  z.strictObject({ id: commandId, command: z.literal('allow'), alert: z.string().min(1).max(128) }),
  z.strictObject({ id: commandId, command: z.literal('allow'), program: z.string().min(1).max(4096) }),
  z.strictObject({ id: commandId, command: z.literal('relearn') }),
  z.strictObject({ id: commandId, command: z.literal('status') }),
]);

/** Reads a command message: the command, or what is wrong with it (and its id if it had one). */
export function parseCommand(payload: string | Uint8Array): { ok: true; command: NodeCommand } | { ok: false; id: string | null; command: NodeCommand['command'] | null; error: string } {
  const text = typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8');
  if (Buffer.byteLength(text) > MAX_COMMAND_BYTES) return { ok: false, id: null, command: null, error: `command larger than ${MAX_COMMAND_BYTES} bytes` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, id: null, command: null, error: 'command is not JSON' };
  }
  const r = commandSchema.safeParse(raw);
  if (r.success) return { ok: true, command: r.data };
  const obj = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const id = typeof obj.id === 'string' && obj.id.length <= 128 ? obj.id : null;
  const name = obj.command === 'allow' || obj.command === 'relearn' || obj.command === 'status' ? obj.command : null;
  const error = name === null
    ? 'unknown command: give "command" as allow, relearn or status'
    : name === 'allow'
      ? 'allow needs "id" and exactly one of "alert" (an alert id) or "program" (a binary path)'
      : `${name} needs "id" and no other field`;
  return { ok: false, id, command: name, error };
}

/** The topic of `kind` for `node`; refuses wildcards in the prefix. */
export function topicFor(prefix: string, node: string, kind: TopicKind): string {
  const p = prefix.replace(/\/+$/, '');
  if (/[+#]/.test(p) || p === '') throw new Error(`MQTT topic prefix "${prefix}" must be non-empty and free of + and #`);
  return `${p}/${topicSegment(node)}/${kind}`;
}

export function encodePayload<K extends TopicKind>(kind: K, payload: MqttTopicPayloads[K]): string {
  return kind === 'status' ? String(payload) : escapeJsonForTerminal(JSON.stringify(payload));
}

/** How a client reaches the broker (the daemon's reporter and the hub share the settings). */
export interface BrokerSettings {
  /** mqtt://, mqtts://, tcp://, ssl://, ws:// or wss:// URL. */
  url: string;
  username?: string;
  password?: string;
  /** PEM files (ARGOS_MQTT_CA, ARGOS_MQTT_CERT, ARGOS_MQTT_KEY), read at start. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** Credentials and TLS material of `b` as mqtt.js client options (the files are read now). */
export function brokerAuthOptions(b: BrokerSettings): { username?: string; password?: string; ca?: Buffer; cert?: Buffer; key?: Buffer } {
  const o: ReturnType<typeof brokerAuthOptions> = {};
  if (b.username !== undefined) o.username = b.username;
  if (b.password !== undefined) o.password = b.password;
  if (b.caFile !== undefined) o.ca = readPem(b.caFile, 'ARGOS_MQTT_CA');
  if (b.certFile !== undefined) o.cert = readPem(b.certFile, 'ARGOS_MQTT_CERT');
  if (b.keyFile !== undefined) o.key = readPem(b.keyFile, 'ARGOS_MQTT_KEY');
  return o;
}

/** Readable problem with the MQTT settings (an unreadable TLS file). */
export class MqttConfigError extends Error {}

/** A PEM file named by `setting` (ARGOS_MQTT_CA, _CERT, _KEY), read when a client starts. */
export function readPem(path: string, setting: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new MqttConfigError(`${setting}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path and its permissions`);
  }
}

/** The broker URL without credentials, for logs. */
export function brokerForLogs(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
