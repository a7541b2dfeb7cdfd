// Starts parts in order and stops them in reverse. A part that fails to stop is logged and
// does not keep the others from closing. A stop during start aborts the remaining starts.
import type { Lifecycle } from './types.js';
import type { Logger } from './logger.js';

export interface NamedPart {
  name: string;
  part: Lifecycle;
}

export class LifecycleGroup implements Lifecycle {
  private started: NamedPart[] = [];
  private stopping = false;
  private stopPromise: Promise<void> | undefined;

  constructor(
    private readonly parts: readonly NamedPart[],
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    for (const p of this.parts) {
      if (this.stopping) return;
      this.log.debug({ part: p.name }, 'starting');
      // Registered before it starts, so a stop during a slow start reaches it (its stop()
      // aborts the start).
      this.started.push(p);
      await p.part.start();
    }
  }

  stop(): Promise<void> {
    this.stopping = true;
    this.stopPromise ??= this.stopAll();
    return this.stopPromise;
  }

  private async stopAll(): Promise<void> {
    for (const p of [...this.started].reverse()) {
      try {
        this.log.debug({ part: p.name }, 'stopping');
        await p.part.stop();
      } catch (e) {
        this.log.error({ part: p.name, err: e }, 'failed to stop cleanly');
      }
    }
    this.started = [];
  }
}

/** Stops `parts` at once and waits for all of them; a part that fails is logged, the others still stop. */
export async function stopAllSettled(parts: readonly NamedPart[], log: Logger): Promise<void> {
  const results = await Promise.allSettled(parts.map((p) => p.part.stop()));
  results.forEach((r, i) => {
    if (r.status === 'rejected') log.error({ part: parts[i].name, err: r.reason as unknown }, 'failed to stop cleanly');
  });
}
