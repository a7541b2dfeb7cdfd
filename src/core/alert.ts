// The alert as stored and as sent (MQTT payload, Ntfy details): DESIGN.md "Reporting".
// Field names are the wire format (snake_case where Tetragon uses it), so one object
// serves the database, MQTT and `argos alerts --json`.
import { randomBytes } from 'node:crypto';

export interface AlertProcess {
  pid: number;
  exec_id: string;
  binary: string;
  arguments: string;
}

export interface AlertPod {
  namespace: string;
  name: string;
  container?: string;
}

export interface Alert {
  /** Stable id (UUIDv7: time-ordered). An update of the same alert keeps its id. */
  id: string;
  node: string;
  /** ISO 8601 time of the first anomalous window. */
  time: string;
  process: AlertProcess;
  /** Present only when the process runs in a known pod. */
  pod?: AlertPod;
  model: string;
  /** Highest score among the windows folded into this alert. */
  score: number;
  threshold: number;
  /** The first anomalous window: its index in the process and its length in syscalls. */
  window: { seq: number; length: number };
  /** Anomalous windows this alert stands for: 1 when raised, more as repeats fold in. */
  count: number;
}

/** Longest `arguments` carried in an alert; the processes table keeps the full string. */
export const MAX_ALERT_ARGUMENTS = 2048;

/** Cuts `s` to `max` characters, marking the cut. */
export function capLength(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * UUIDv7 (RFC 9562): 48-bit millisecond time, then random bits. Time-ordered, so ids sort
 * like the alerts they name; unique without coordination between restarts.
 */
export function uuidv7(nowMs: number, random: (n: number) => Uint8Array = randomBytes): string {
  const b = random(16);
  let t = Math.max(0, Math.floor(nowMs));
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
