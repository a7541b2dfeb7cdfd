// Child processes for tests: TypeScript scripts run through tsx, their JSON-line output
// collected, waited on with bounds, and killed by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './fake-time.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export class TsChild {
  readonly lines: Record<string, unknown>[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private constructor(readonly child: ChildProcess) {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.lines.push({ text: line });
        }
      }
    });
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ? null : code)));
  }

  /** Runs `node --import tsx SCRIPT ARGS` from the repository root. */
  static run(script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): TsChild {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    return new TsChild(child);
  }

  events(name: string): Record<string, unknown>[] {
    return this.lines.filter((l) => l.event === name);
  }

  async waitForEvent(name: string, count = 1, limitMs = 20_000): Promise<void> {
    await waitFor(() => this.events(name).length >= count || this.child.exitCode !== null, `${count} "${name}" from the child`, limitMs);
    if (this.events(name).length < count) throw new Error(`child exited early (${this.child.exitCode}): ${this.stderr}`);
  }

  /** Sends `signal` to the child by pid and waits for it to exit. */
  async kill(signal: NodeJS.Signals): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
