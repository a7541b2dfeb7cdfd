// The commands an operator gives a node (`argos allow`, `argos status`, `argos model relearn`,
// and the same over MQTT on `<prefix>/<node>/cmd`): what each does to the database and to the
// running daemon, and the result it answers with. A command without a valid shape changes
// nothing and gets an error result.
import { parseCommand, type CommandResult, type NodeCommand, type StatePayload } from '../core/mqtt.js';
import type { Clock } from '../core/time.js';
import type { SqliteStore } from '../store/store.js';
import { SCORE_BAND } from './allowances.js';
import { REQUEST_KEY, type LifecycleRequest } from './lifecycle.js';

/** The running daemon's side, when there is one (the CLI runs commands without it). */
export interface LiveDaemon {
  relearn(): Promise<StatePayload>;
  status(): StatePayload;
  /** Allowances changed: read them again. */
  allowancesChanged(): void;
}

/** The shortest end of an alert id that `allow` accepts (the alerts table shows the last SHORT_ID_LENGTH). */
export const MIN_ALERT_REF = 8;
/** Characters of an alert id the alerts table shows (the random end of its UUIDv7). */
export const SHORT_ID_LENGTH = 12;

export interface CommandsOptions {
  store: SqliteStore;
  node: string;
  clock: Clock;
  /** The rolling baseline's size in calls. */
  maxBaselineCalls?: number;
  live?: LiveDaemon;
  /** The state without a running daemon (for `status` from the CLI). */
  offlineStatus?: () => StatePayload;
}

export class Commands {
  constructor(private readonly o: CommandsOptions) {}

  /** Runs a command message as it came over MQTT (JSON): never throws. */
  async runMessage(payload: string | Uint8Array): Promise<CommandResult> {
    const parsed = parseCommand(payload);
    if (!parsed.ok) return this.result(parsed.id, parsed.command, { ok: false, error: parsed.error });
    return this.run(parsed.command);
  }

  async run(cmd: NodeCommand): Promise<CommandResult> {
    try {
      switch (cmd.command) {
        case 'allow':
          return this.result(cmd.id, 'allow', 'alert' in cmd ? this.allowAlert(cmd.alert) : this.allowProgram(cmd.program));
        case 'relearn': {
          if (this.o.live !== undefined) {
            const state = await this.o.live.relearn();
            return this.result(cmd.id, 'relearn', { ok: true, message: 'learning this device afresh: the generic model watches while the baseline fills again', state });
          }
          const request: LifecycleRequest = { kind: 'relearn' };
          this.o.store.setLifecycle(REQUEST_KEY, request);
          return this.result(cmd.id, 'relearn', { ok: true, message: 'the daemon will learn this device afresh (now if it runs, else when it starts)' });
        }
        case 'status': {
          const state = this.o.live?.status() ?? this.o.offlineStatus?.();
          return state === undefined ? this.result(cmd.id, 'status', { ok: false, error: 'no state: the daemon has not run on this database yet' }) : this.result(cmd.id, 'status', { ok: true, state });
        }
      }
    } catch (e) {
      return this.result(cmd.id, cmd.command, { ok: false, error: (e as Error).message });
    }
  }

  private allowAlert(id: string): Pick<CommandResult, 'ok' | 'message' | 'error'> {
    const ids = id.length >= MIN_ALERT_REF ? this.o.store.findAlertIds(id) : [];
    if (ids.length > 1) return { ok: false, error: `more than one alert id ends with ${id}: give more of it (argos alerts --json shows whole ids)` };
    const alert = ids[0] === undefined ? undefined : this.o.store.getAlert(ids[0]);
    if (alert === undefined) return { ok: false, error: `no alert ${id} on ${this.o.node}: give its id as argos alerts shows it (at least ${MIN_ALERT_REF} characters; argos alerts --json shows whole ids)` };
    const scoreMax = alert.kind === 'anomaly' ? alert.score : null;
    this.o.store.addAllowance({ program: alert.program, scoreMax, alertId: alert.id });
    const moved = this.o.store.releaseQuarantine({ alertId: alert.id }, this.o.maxBaselineCalls);
    this.o.live?.allowancesChanged();
    const until = scoreMax === null ? `${alert.program} is not reported as new` : `anomalies of ${alert.program} scoring up to ${(scoreMax * SCORE_BAND).toFixed(3)} are not alerted`;
    return { ok: true, message: `allowed alert ${alert.id}: ${moved} held-back trace${moved === 1 ? '' : 's'} join the baseline; until the next training, ${until}` };
  }

  private allowProgram(program: string): Pick<CommandResult, 'ok' | 'message' | 'error'> {
    this.o.store.addAllowance({ program, scoreMax: null, alertId: null });
    const moved = this.o.store.releaseQuarantine({ program }, this.o.maxBaselineCalls);
    this.o.live?.allowancesChanged();
    return { ok: true, message: `allowed program ${program}: ${moved} held-back trace${moved === 1 ? '' : 's'} join the baseline; until the next training it is not alerted` };
  }

  private result(id: string | null, command: NodeCommand['command'] | null, r: Pick<CommandResult, 'ok' | 'message' | 'error' | 'state'>): CommandResult {
    return { id, node: this.o.node, time: new Date(this.o.clock.now()).toISOString(), command, ...r };
  }
}
