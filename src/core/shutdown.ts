// Graceful shutdown: the first SIGTERM/SIGINT stops the daemon in order within a deadline;
// a second signal, or the deadline passing, forces the exit. Exit code is 128 + signal number.
import type { Logger } from './logger.js';
import { systemTimers, type Timers } from './time.js';

const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const;
type Signal = keyof typeof SIGNALS;

/** The slice of `process` the handler needs, so tests can drive it. */
export interface SignalTarget {
  on(signal: Signal, handler: () => void): unknown;
  off(signal: Signal, handler: () => void): unknown;
  exit(code: number): void;
}

export interface ShutdownOptions {
  target: SignalTarget;
  log: Logger;
  /** Stops everything; called once. */
  stop: (reason: string) => Promise<void>;
  /** After this long the process exits even if `stop` has not finished. */
  deadlineMs: number;
  /** Called first (e.g. tell systemd STOPPING=1). */
  onStopping?: () => void;
  /** Called just before exiting (e.g. flush the logger). */
  beforeExit?: () => void;
  timers?: Timers;
}

export interface ShutdownHandle {
  /** Resolves with the exit code once a signal-initiated stop completed. */
  readonly stopped: Promise<number>;
  /** Removes the signal handlers (after a normal end). */
  dispose(): void;
}

export function handleShutdown(opts: ShutdownOptions): ShutdownHandle {
  const timers = opts.timers ?? systemTimers;
  let stopping = false;
  let resolveStopped: (code: number) => void = () => {};
  const stopped = new Promise<number>((r) => (resolveStopped = r));
  const handlers = new Map<Signal, () => void>();

  const exit = (code: number) => {
    opts.beforeExit?.();
    opts.target.exit(code);
  };

  const onSignal = (signal: Signal) => {
    const code = 128 + SIGNALS[signal];
    if (stopping) {
      opts.log.warn({ signal }, 'second signal: exiting now');
      exit(code);
      return;
    }
    stopping = true;
    opts.log.info({ signal }, 'stopping');
    opts.onStopping?.();
    timers.setTimeout(
      () => {
        opts.log.error({ deadlineMs: opts.deadlineMs }, 'stop took too long: exiting now');
        exit(code);
      },
      opts.deadlineMs,
      { unref: true },
    );
    opts.stop(signal).then(
      () => {
        resolveStopped(code);
      },
      (e: unknown) => {
        opts.log.error({ err: e }, 'error while stopping');
        resolveStopped(code);
      },
    );
  };

  for (const signal of Object.keys(SIGNALS) as Signal[]) {
    const h = () => onSignal(signal);
    handlers.set(signal, h);
    opts.target.on(signal, h);
  }
  return {
    stopped,
    dispose() {
      for (const [signal, h] of handlers) opts.target.off(signal, h);
    },
  };
}
