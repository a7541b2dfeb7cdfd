// Test data: alerts and processes with distinct ids.
import type { ProcessInfo } from '../../src/core/types.js';
import type { Alert } from '../../src/core/alert.js';

export function makeProcess(i: number, extra: Partial<ProcessInfo> = {}): ProcessInfo {
  return { execId: `exec-${i}`, pid: 1000 + i, binary: `/usr/bin/tool${i}`, arguments: `--run ${i}`, ...extra };
}

export function makeAlert(i: number, timeMs: number, extra: Partial<Alert> = {}): Alert {
  const p = makeProcess(i);
  return {
    id: `alert-${String(i).padStart(6, '0')}`,
    node: 'node-a',
    time: new Date(timeMs).toISOString(),
    process: { pid: p.pid, exec_id: p.execId, binary: p.binary, arguments: p.arguments },
    model: 'test-model',
    score: 0.9,
    threshold: 0.5,
    window: { seq: 0, length: 64 },
    count: 1,
    ...extra,
  };
}
