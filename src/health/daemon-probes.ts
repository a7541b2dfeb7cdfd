// The daemon's health probes: is the source delivering, does the model score, is the
// database writable, are the reporters connected.
import { accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { freshnessProbe, type HealthProbe } from './probe.js';
import type { Clock } from '../core/time.js';
import type { ClassifierHealth } from '../core/types.js';

/**
 * Ok while `value()` has changed within `maxIdleMs` (checked at probe time, so the hot path
 * pays nothing): a freshness probe whose last activity is the last change seen.
 * `finished()` true = a finite source that ended normally.
 */
export function progressProbe(o: {
  name: string;
  critical: boolean;
  value: () => number;
  maxIdleMs: number;
  clock: Clock;
  what: string;
  finished?: () => boolean;
}): HealthProbe & { stalled(): boolean } {
  let last = o.value();
  let changedAt = o.clock.monotonic();
  const lastChange = (): number => {
    const v = o.value();
    if (v !== last) {
      last = v;
      changedAt = o.clock.monotonic();
    }
    return changedAt;
  };
  const fresh = freshnessProbe({ name: o.name, critical: o.critical, lastAt: lastChange, maxAgeMs: o.maxIdleMs, clock: o.clock, what: o.what });
  const finished = (): boolean => o.finished?.() ?? false;
  return {
    name: o.name,
    critical: o.critical,
    stalled: () => !finished() && o.clock.monotonic() - lastChange() > o.maxIdleMs,
    check: () => (finished() ? { ok: true, detail: `finished after ${last} ${o.what}` } : fresh.check()),
  };
}


/** The classifier is healthy while its last batch did not fail and it has a live worker thread. */
export function modelProbe(o: { name: string; failedBatches: () => number; batches: () => number; workers?: () => ClassifierHealth }): HealthProbe {
  let lastFailed = o.failedBatches();
  let lastBatches = o.batches();
  let ok = true;
  return {
    name: o.name,
    critical: true,
    check() {
      const failed = o.failedBatches();
      const batches = o.batches();
      if (failed > lastFailed) ok = false;
      else if (batches > lastBatches) ok = true;
      lastFailed = failed;
      lastBatches = batches;
      const w = o.workers?.();
      if (w !== undefined && w.engines > 0 && w.dead === w.engines) return { ok: false, detail: `every classifier worker thread is dead (${w.restarts} restarts so far); see the log` };
      const restarts = w !== undefined && w.restarts > 0 ? `, ${w.restarts} worker restarts` : '';
      return ok ? { ok, detail: `${batches} batches scored${restarts}` } : { ok, detail: `classification failing (${failed} failed batches${restarts}); see the log` };
    },
  };
}

export function databaseProbe(o: { path: string; usedBytes: () => number }): HealthProbe {
  return {
    name: 'database',
    critical: true,
    check() {
      const target = o.path === ':memory:' ? undefined : o.path;
      if (target !== undefined) {
        accessSync(target, constants.W_OK);
        accessSync(dirname(target), constants.W_OK);
      }
      return { ok: true, detail: `${o.usedBytes()} bytes used, writable` };
    },
  };
}

export function reporterProbe(o: { name: string; connected: () => boolean; depth: () => number }): HealthProbe {
  return {
    name: o.name,
    critical: false,
    check() {
      const depth = o.depth();
      return o.connected() ? { ok: true, detail: `connected, ${depth} waiting` } : { ok: false, detail: `not connected, ${depth} alerts waiting in the outbox` };
    },
  };
}

/**
 * Whether alerts reach the database (not critical: the daemon keeps watching and keeps what it
 * cannot store in memory, so it is degraded, not failing).
 */
export function alertStorageProbe(o: { status: () => { buffered: number; bufferedProcesses: number; dropped: number; failing: string | undefined } }): HealthProbe {
  return {
    name: 'alert storage',
    critical: false,
    check() {
      const s = o.status();
      const lost = s.dropped > 0 ? `; ${s.dropped} lost since start (buffer full)` : '';
      if (s.failing !== undefined || s.buffered > 0) {
        return { ok: false, detail: `the database refuses writes (${s.failing ?? 'retrying'}): ${s.buffered} alert writes and ${s.bufferedProcesses} processes waiting in memory${lost}` };
      }
      return { ok: true, detail: `alerts are stored${lost}` };
    },
  };
}
