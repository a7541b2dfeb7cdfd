// The alert as stored and as sent (MQTT payload, Ntfy details): DESIGN.md "Reporting".
// Field names are the wire format (snake_case where Tetragon uses it), so one object
// serves the database, MQTT and `argos alerts --json`.
import { randomBytes } from 'node:crypto';

export interface AlertProcess {
  pid: number;
  exec_id: string;
  binary: string;
  arguments: string;
  /** The process that started it, when known. */
  parent?: { pid: number; exec_id: string; binary: string };
}

export interface AlertPod {
  namespace: string;
  name: string;
  container?: string;
  image?: string;
}

export type AlertKind = 'anomaly' | 'new_program';

/** One surprising stretch of a window: the calls up to the surprising one, and how surprising it was (nats). */
export interface WhyCall {
  calls: string;
  surprisal: number;
}

/** 3 = default, 4 = high, 5 = urgent (Ntfy's scale). */
export type AlertPriority = 3 | 4 | 5;

interface AlertCommon {
  /** Stable id (UUIDv7: time-ordered). An update of the same alert keeps its id. */
  id: string;
  node: string;
  /** ISO 8601 time of the first anomalous window, or of the exec. */
  time: string;
  kind: AlertKind;
  process: AlertProcess;
  /** Present only when the process runs in a known pod. */
  pod?: AlertPod;
  /** The program the alert is about: its binary path, with the container image when in a pod. */
  program: string;
  /** Name of the model that judged it. */
  model: string;
  priority: AlertPriority;
  /** Events this alert stands for: 1 when raised, more as repeats fold in. */
  count: number;
}

/** A window whose score reached its profile's threshold. */
export interface AnomalyAlert extends AlertCommon {
  kind: 'anomaly';
  /** Highest score among the windows folded into this alert. */
  score: number;
  threshold: number;
  /** The first anomalous window: its index in the process and its length in syscalls. */
  window: { seq: number; length: number };
  /** The most surprising calls of the first anomalous window, most surprising first. */
  why: WhyCall[];
}

/** A program the model never saw, raised when it starts. */
export interface NewProgramAlert extends AlertCommon {
  kind: 'new_program';
  /** True when it runs from a writable or temporary place (/tmp, /dev/shm, a home folder, memfd, a deleted file). */
  writable: boolean;
  /** In words: why this is an alert and why it has its priority. */
  reason: string;
}

export type Alert = AnomalyAlert | NewProgramAlert;

/** An anomaly's priority: how far the score is above the threshold, and repeats (10 or more: at least high). */
export function anomalyPriority(score: number, threshold: number, count: number): AlertPriority {
  const ratio = threshold > 0 ? score / threshold : Number.POSITIVE_INFINITY;
  let p: AlertPriority = ratio >= 1.5 ? 5 : ratio >= 1.2 ? 4 : 3;
  if (count >= 10 && p < 4) p = 4;
  return p;
}

/**
 * An alert as read back from storage or the wire: alerts stored before kinds existed are
 * anomalies without `why`, their program is their binary, their priority as computed then.
 */
export function normaliseAlert(raw: Alert): Alert {
  const a = raw as Alert & { kind?: AlertKind };
  if (a.kind === 'new_program') return a;
  const anomaly = a as AnomalyAlert;
  return {
    ...anomaly,
    kind: 'anomaly',
    program: anomaly.program ?? anomaly.process.binary,
    priority: anomaly.priority ?? anomalyPriority(anomaly.score, anomaly.threshold, anomaly.count),
    why: anomaly.why ?? [],
  };
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
