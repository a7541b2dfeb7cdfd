// Starting a worker thread on a module of this program, from TypeScript sources or from the
// compiled JavaScript, and lowering a thread's scheduling priority.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread on `entry` (a module URL of this program, `.ts` next to its source).
 * Under Node from TypeScript sources (tsx), the worker loads tsx's hooks first: Node does not
 * hand the parent's loader hooks to a worker's entry module. Bun runs TypeScript itself.
 */
export function startWorker(entry: URL, workerData: unknown): Worker {
  const fromSource = entry.pathname.endsWith('.ts');
  if (fromSource && !('Bun' in globalThis)) {
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
    return new Worker(boot, { eval: true, workerData });
  }
  return new Worker(entry, { workerData });
}

/**
 * Lowers the calling thread's priority to `nice` (Linux: setpriority on the thread's id), so
 * work such as training leaves the CPU to event processing. Returns false where it cannot.
 */
export function lowerThreadPriority(nice = 19): boolean {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
