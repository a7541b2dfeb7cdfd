// Starting a worker thread on a module that sits next to the caller, from the TypeScript
// sources (tsx) or the built JavaScript alike.
import { Worker } from 'node:worker_threads';

/**
 * Starts a worker on `name` (without extension) next to `callerUrl` (the caller's
 * `import.meta.url`). From TypeScript sources under Node (tsx), the worker loads tsx's hooks
 * first: Node does not hand the parent's loader hooks to a worker's entry module. Bun runs
 * TypeScript itself.
 */
export function startSiblingWorker(callerUrl: string, name: string, workerData: unknown): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const entry = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, callerUrl);
  if (fromSource && !('Bun' in globalThis)) {
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
    return new Worker(boot, { eval: true, workerData });
  }
  return new Worker(entry, { workerData });
}
