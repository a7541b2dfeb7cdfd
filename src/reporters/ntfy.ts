// Ntfy reporter: one push notification per outbox message, POST <server>/<topic>.
// Headers: Title (node), Priority (by score against threshold), Tags, Bearer token if set.
// Body: plain text under 4 KiB; every string from the watched host made safe (control
// characters replaced, length capped), the arguments last so a cut loses the least.
// Outcomes: 2xx delivered; 429 and 5xx retried after Retry-After or backoff; network errors
// and timeouts retried; other 4xx refused (the outbox gives a refused message up after a
// few tries and keeps it as dead).
import type { Alert } from '../core/alert.js';
import type { Logger } from '../core/logger.js';
import type { Lifecycle } from '../core/types.js';
import type { Reporter, SendResult } from './reporter.js';
import { safeText } from '../core/sanitize.js';
import type { OutboxMessage } from '../core/storage.js';
import { type Clock, systemClock, systemTimers, type Timers } from '../core/time.js';

export const NTFY_MAX_BODY = 4096;

export interface NtfyReporterOptions {
  /** e.g. https://ntfy.sh */
  server: string;
  topic: string;
  token?: string;
  log: Logger;
  /** Injected for tests; default the global fetch. */
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Current time for HTTP-date Retry-After values. */
  clock?: Clock;
  /** Request timeouts. */
  timers?: Timers;
}

export interface NtfyRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** HTTP header values must be ASCII without control characters. */
function headerText(s: string, max: number): string {
  return safeText(s, max).replace(/[^\x20-\x7e]/g, '?');
}

/** Cuts `s` to at most `max` UTF-8 bytes without splitting a character. */
function capBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = s.slice(0, max);
  while (Buffer.byteLength(out) > max - 3) out = out.slice(0, -1);
  return `${out}…`;
}

export function ntfyRequest(server: string, topic: string, a: Alert, token?: string): NtfyRequest {
  const priority = a.priority;
  const node = headerText(a.node, 64);
  const what = a.kind === 'new_program' ? 'new program' : 'anomaly';
  const headers: Record<string, string> = {
    'Content-Type': 'text/plain; charset=utf-8',
    Title: a.count > 1 ? `Argos: ${what} on ${node} (x${a.count})` : `Argos: ${what} on ${node}`,
    Priority: String(priority),
    Tags: priority >= 5 ? 'rotating_light,argos' : 'warning,argos',
  };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const lines = [
    a.kind === 'new_program' ? `New program on ${safeText(a.node, 64)}: ${safeText(a.reason, 256)}` : `Anomalous process on ${safeText(a.node, 64)}`,
    `Binary: ${safeText(a.process.binary, 256)}`,
    `PID: ${a.process.pid}  exec_id: ${safeText(a.process.exec_id, 128)}`,
  ];
  if (a.process.parent) lines.push(`Parent: ${safeText(a.process.parent.binary, 256)} (pid ${a.process.parent.pid})`);
  if (a.pod) {
    const container = a.pod.container !== undefined ? ` (container ${safeText(a.pod.container, 128)})` : '';
    lines.push(`Pod: ${safeText(a.pod.namespace, 128)}/${safeText(a.pod.name, 128)}${container}`);
  }
  if (a.kind === 'anomaly') {
    lines.push(`Score: ${a.score.toFixed(4)} (threshold ${a.threshold.toFixed(4)}, model ${safeText(a.model, 64)})`, `Windows: ${a.count}`);
    for (const w of a.why.slice(0, 3)) lines.push(`Why: ${safeText(w.calls, 256)} (${w.surprisal.toFixed(1)} nats)`);
  } else {
    lines.push(`Starts: ${a.count}`);
  }
  lines.push(`Time: ${safeText(a.time, 40)}`, `Alert: ${safeText(a.id, 64)}`, `Arguments: ${safeText(a.process.arguments, NTFY_MAX_BODY)}`);
  return { url: `${server.replace(/\/+$/, '')}/${encodeURIComponent(topic)}`, headers, body: capBytes(lines.join('\n'), NTFY_MAX_BODY) };
}

/** Retry-After: seconds or an HTTP date; undefined if absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export class NtfyReporter implements Reporter, Lifecycle {
  readonly name = 'ntfy';
  private readonly inflight = new Set<AbortController>();

  constructor(private readonly o: NtfyReporterOptions) {}

  async start(): Promise<void> {}

  /** Aborts requests in flight (their messages stay pending). */
  async stop(): Promise<void> {
    for (const c of this.inflight) c.abort();
  }

  async send(message: OutboxMessage): Promise<SendResult> {
    let alert: Alert;
    try {
      alert = JSON.parse(message.payload) as Alert;
    } catch {
      return { kind: 'rejected', reason: 'stored message is not valid JSON' };
    }
    const req = ntfyRequest(this.o.server, this.o.topic, alert, this.o.token);
    const ctl = new AbortController();
    this.inflight.add(ctl);
    const timers = this.o.timers ?? systemTimers;
    const timer = timers.setTimeout(() => ctl.abort(), this.o.timeoutMs ?? 15_000);
    try {
      const res = await (this.o.fetch ?? fetch)(req.url, { method: 'POST', headers: req.headers, body: req.body, signal: ctl.signal });
      const text = await res.text().catch(() => '');
      if (res.ok) return { kind: 'delivered' };
      const reason = `HTTP ${res.status} from ${this.o.server}: ${safeText(text.trim(), 200)}`;
      const after = retryAfterMs(res.headers.get('retry-after'), (this.o.clock ?? systemClock).now());
      if (res.status === 429 || res.status >= 500) return after === undefined ? { kind: 'retry', reason } : { kind: 'retry', reason, afterMs: after };
      return { kind: 'rejected', reason };
    } catch (e) {
      const err = e as Error;
      const reason = err.name === 'AbortError' ? 'request timed out or was cancelled' : `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}`;
      return { kind: 'retry', reason: `cannot reach ${this.o.server}: ${reason}` };
    } finally {
      timers.clearTimeout(timer);
      this.inflight.delete(ctl);
    }
  }
}
