import { systemClock, type Clock, systemTimers, type Timers, type TimerHandle } from '../core/time.js';
// What the daemon's parts tell the health endpoint about themselves.

/** The result of one check. `detail` says what is wrong, or what is fine, in a few words. */
export interface HealthCheck {
  ok: boolean;
  detail: string;
}

/**
 * One part's health (source alive, model loaded, database writable, a reporter's link).
 * `critical` parts make the process useless when failing (liveness); the others only
 * mark it degraded (readiness), e.g. a broker outage while the outbox keeps the alerts.
 */
export interface HealthProbe {
  readonly name: string;
  readonly critical?: boolean;
  check(): HealthCheck | Promise<HealthCheck>;
}

export type HealthStatus = 'ok' | 'degraded' | 'failing';

export interface HealthReport {
  status: HealthStatus;
  checks: Record<string, HealthCheck & { critical: boolean }>;
}

/** Runs every probe (each bounded by `timeoutMs`; a throw or a timeout is a failed check). */
export async function runProbes(probes: readonly HealthProbe[], timeoutMs = 2000, timers: Timers = systemTimers): Promise<HealthReport> {
  const results = await Promise.all(probes.map((p) => checkOne(p, timeoutMs, timers)));
  const checks: HealthReport['checks'] = {};
  let status: HealthStatus = 'ok';
  probes.forEach((p, i) => {
    const critical = p.critical ?? false;
    checks[p.name] = { ...results[i], critical };
    if (!results[i].ok) status = critical ? 'failing' : status === 'failing' ? 'failing' : 'degraded';
  });
  return { status, checks };
}

async function checkOne(p: HealthProbe, timeoutMs: number, timers: Timers): Promise<HealthCheck> {
  let timer: TimerHandle;
  const timeout = new Promise<HealthCheck>((resolve) => {
    timer = timers.setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => p.check()), timeout]);
  } catch (e) {
    return { ok: false, detail: `check failed: ${(e as Error).message}` };
  } finally {
    timers.clearTimeout(timer);
  }
}

/**
 * A probe for a stream that should keep moving: ok while `lastAt()` (ms, from the same clock)
 * is at most `maxAgeMs` old. `idleOk` is for sources that may be quiet (a tailed file).
 */
export function freshnessProbe(opts: {
  name: string;
  critical?: boolean;
  lastAt: () => number | undefined;
  maxAgeMs: number;
  /** `lastAt()` and the age are read on its monotonic clock. */
  clock?: Clock;
  what?: string;
}): HealthProbe {
  const clock = opts.clock ?? systemClock;
  const what = opts.what ?? 'activity';
  return {
    name: opts.name,
    critical: opts.critical,
    check() {
      const at = opts.lastAt();
      if (at === undefined) return { ok: false, detail: `no ${what} yet` };
      const age = clock.monotonic() - at;
      return age <= opts.maxAgeMs
        ? { ok: true, detail: `last ${what} ${Math.round(age / 1000)} s ago` }
        : { ok: false, detail: `no ${what} for ${Math.round(age / 1000)} s (limit ${Math.round(opts.maxAgeMs / 1000)} s)` };
    },
  };
}
