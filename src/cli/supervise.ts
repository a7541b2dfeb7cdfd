// How `argos run`, `argos replay` and `argos learn` run until their work ends or a signal
// comes: the first SIGTERM/SIGINT starts a graceful stop within a deadline, a second one (or
// the deadline passing) forces the exit, and whatever still runs is stopped at the end.
import type { Logger } from '../core/logger.js';
import { handleShutdown, type SignalTarget } from '../core/shutdown.js';

export interface SupervisedWork {
  log: Logger;
  /** After a signal, the process exits after this long whatever is still running. */
  deadlineMs: number;
  /** The command's work; resolves when it is over by itself. */
  work: () => Promise<void>;
  /** What the first signal does (stop the pipeline; end a recording early). */
  onSignal: () => Promise<void>;
  /** True: after a signal the work still runs to its end (it winds down once `onSignal` ran). */
  finishWork?: boolean;
  /** Runs last in every case: stops whatever still runs. */
  cleanup: () => Promise<void>;
  /** Called first when a signal comes (e.g. tell systemd STOPPING=1). */
  onStopping?: () => void;
  /** Called just before a forced exit (e.g. flush the logger). */
  beforeExit?: () => void;
  target?: SignalTarget;
}

/** Resolves with the exit code of the signal that ended the work (128 + n), or undefined when it ended by itself. */
export async function supervise(o: SupervisedWork): Promise<number | undefined> {
  let signalled = false;
  const shutdown = handleShutdown({
    target: o.target ?? process,
    log: o.log,
    deadlineMs: o.deadlineMs,
    stop: o.onSignal,
    onStopping: () => {
      signalled = true;
      o.onStopping?.();
    },
    beforeExit: o.beforeExit,
  });
  try {
    const work = o.work();
    // After a signal nobody may wait for it: its failure is then not worth a crash.
    work.catch(() => undefined);
    const first = await Promise.race([work.then(() => undefined), shutdown.stopped]);
    if (signalled && o.finishWork) await work;
    return signalled ? await shutdown.stopped : first;
  } finally {
    await o.cleanup();
    shutdown.dispose();
  }
}
