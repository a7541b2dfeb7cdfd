// systemd's notification protocol (Type=notify): READY=1 once started, WATCHDOG=1 pings,
// STOPPING=1 on the way out. Neither Node nor Bun has unix datagram sockets, and a native
// addon would have to be built per architecture, so: under Bun the datagram is sent through
// libc (bun:ffi); under Node (or if that fails) `systemd-notify` sends it for us, which needs
// NotifyAccess=all in the unit (see systemd/argos.service).
import { spawn } from 'node:child_process';
import { libc } from './libc.js';
import { systemTimers, type Timers } from '../core/time.js';

/** Sends one notification (newline-separated KEY=VALUE lines); resolves true when sent. */
export type NotifyTransport = (socket: string, state: string) => Promise<boolean>;

export interface SdNotifyOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** False turns everything into a no-op (ARGOS_SYSTEMD_NOTIFY=false). */
  enabled?: boolean;
  pid?: number;
  transport?: NotifyTransport;
  timers?: Timers;
  /** Told about a notification that could not be sent (once per kind of state). */
  onError?: (state: string, reason: string) => void;
}

/** Through libc under Bun; falls back to `systemd-notify`. */
export const defaultTransport: NotifyTransport = async (socket, state) => {
  const c = libc();
  if (c && c.sendDatagram(socket, state)) return true;
  return systemdNotifyTransport(socket, state);
};

/** Spawns `systemd-notify KEY=VALUE...`; it waits until systemd has processed the message. */
export const systemdNotifyTransport: NotifyTransport = (socket, state) =>
  new Promise((resolve) => {
    const child = spawn('systemd-notify', state.split('\n').filter(Boolean), {
      env: { ...process.env, NOTIFY_SOCKET: socket },
      stdio: 'ignore',
    });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });

export class SdNotify {
  private readonly socket: string | undefined;
  private readonly transport: NotifyTransport;
  private readonly timers: Timers;
  private readonly pid: number;
  private watchdogTimer: unknown;
  private readonly failed = new Set<string>();
  private pending: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: SdNotifyOptions) {
    this.socket = opts.enabled === false ? undefined : opts.env.NOTIFY_SOCKET || undefined;
    this.transport = opts.transport ?? defaultTransport;
    this.timers = opts.timers ?? systemTimers;
    this.pid = opts.pid ?? process.pid;
  }

  /** True when systemd is listening (NOTIFY_SOCKET set and notifications enabled). */
  get active(): boolean {
    return this.socket !== undefined;
  }

  /** Sends `state` (e.g. `READY=1`); a no-op without NOTIFY_SOCKET. Never throws. */
  notify(state: string): Promise<boolean> {
    const socket = this.socket;
    if (socket === undefined) return Promise.resolve(false);
    // Keep the order of notifications (READY before STOPPING) even with spawned senders.
    const sent = this.pending.then(() => this.transport(socket, state)).then(
      (ok) => {
        if (!ok) this.fail(state, 'not delivered');
        return ok;
      },
      (e: unknown) => {
        this.fail(state, (e as Error).message);
        return false;
      },
    );
    this.pending = sent;
    return sent;
  }

  ready(status = 'running'): Promise<boolean> {
    return this.notify(`READY=1\nSTATUS=${status}`);
  }

  stopping(status = 'stopping'): Promise<boolean> {
    this.stopWatchdog();
    return this.notify(`STOPPING=1\nSTATUS=${status}`);
  }

  status(text: string): Promise<boolean> {
    return this.notify(`STATUS=${text}`);
  }

  /** Half of WatchdogSec= (systemd's advice), or undefined when no watchdog is set for us. */
  watchdogIntervalMs(): number | undefined {
    if (this.socket === undefined) return undefined;
    const usec = Number(this.opts.env.WATCHDOG_USEC);
    if (!Number.isFinite(usec) || usec <= 0) return undefined;
    const forPid = this.opts.env.WATCHDOG_PID;
    if (forPid && Number(forPid) !== this.pid) return undefined;
    return Math.max(1, Math.floor(usec / 2000));
  }

  /**
   * Pings WATCHDOG=1 every half watchdog period while `healthy()` says so; a stuck event
   * loop or a failing check lets systemd restart the service. Returns false when off.
   */
  startWatchdog(healthy: () => boolean = () => true): boolean {
    const ms = this.watchdogIntervalMs();
    if (ms === undefined || this.watchdogTimer !== undefined) return false;
    const ping = (): void => {
      this.watchdogTimer = this.timers.setTimeout(
        () => {
          if (healthy()) void this.notify('WATCHDOG=1');
          ping();
        },
        ms,
        { unref: true },
      );
    };
    ping();
    return true;
  }

  stopWatchdog(): void {
    if (this.watchdogTimer === undefined) return;
    this.timers.clearTimeout(this.watchdogTimer);
    this.watchdogTimer = undefined;
  }

  private fail(state: string, reason: string): void {
    const kind = state.split('\n')[0];
    if (this.failed.has(kind)) return;
    this.failed.add(kind);
    this.opts.onError?.(kind, reason);
  }
}

/** One-off notification with the process environment; a no-op when NOTIFY_SOCKET is unset. */
export function notify(state: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<boolean> {
  return new SdNotify({ env }).notify(state);
}
