// Test data: alerts and processes with distinct ids.
import type { ProcessInfo } from '../../src/core/types.js';
import { anomalyPriority, type Alert, type AnomalyAlert } from '../../src/core/alert.js';

export function makeProcess(i: number, extra: Partial<ProcessInfo> = {}): ProcessInfo {
  return { execId: `exec-${i}`, pid: 1000 + i, binary: `/usr/bin/tool${i}`, arguments: `--run ${i}`, ...extra };
}

/** An anomaly alert; its priority follows its score, threshold and count unless given. */
export function makeAlert(i: number, timeMs: number, extra: Partial<AnomalyAlert> = {}): AnomalyAlert {
  const p = makeProcess(i);
  const a: AnomalyAlert = {
    id: `alert-${String(i).padStart(6, '0')}`,
    node: 'node-a',
    time: new Date(timeMs).toISOString(),
    kind: 'anomaly',
    process: { pid: p.pid, exec_id: p.execId, binary: p.binary, arguments: p.arguments },
    program: p.binary,
    model: 'test-model',
    priority: 5,
    score: 0.9,
    threshold: 0.5,
    window: { seq: 0, length: 64 },
    count: 1,
    why: [],
    ...extra,
  };
  if (extra.priority === undefined) a.priority = anomalyPriority(a.score, a.threshold, a.count);
  return a;
}

/** The alert, which must be an anomaly alert (fails the test otherwise). */
export function anomaly(a: Alert | undefined): AnomalyAlert {
  if (a?.kind !== 'anomaly') throw new Error(`expected an anomaly alert, got ${JSON.stringify(a)}`);
  return a;
}
