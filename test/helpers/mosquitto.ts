// A real mosquitto broker for tests: 127.0.0.1 only, a free port, a temporary config and
// persistence directory; stopped by pid; can be restarted on the same port (outage tests).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface MosquittoOptions {
  /** Keep sessions and retained messages across a restart (saved on a clean stop). */
  persistence?: boolean;
  /** Extra lines for mosquitto.conf. */
  extraConfig?: string[];
}

export class Mosquitto {
  readonly dir: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  log = '';

  private constructor(
    readonly port: number,
    private readonly options: MosquittoOptions,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'argos-mosquitto-'));
  }

  /** Starts a broker on a free port and waits until it accepts connections. */
  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    const m = new Mosquitto(await freePort(), options);
    await m.start();
    return m;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** (Re)starts on the same port. */
  async start(): Promise<void> {
    if (this.child) return;
    const conf = join(this.dir, 'mosquitto.conf');
    // `user root`: when run as root, keep root so the temporary directory stays writable.
    const extra = this.options.extraConfig ?? [];
    const lines = [`listener ${this.port} 127.0.0.1`, 'user root', 'log_dest stderr', 'log_type error', 'log_type warning'];
    if (!extra.some((l) => l.startsWith('allow_anonymous'))) lines.push('allow_anonymous true');
    if (this.options.persistence) lines.push('persistence true', `persistence_location ${this.dir}/`, 'autosave_interval 0');
    lines.push(...extra);
    writeFileSync(conf, `${lines.join('\n')}\n`);
    const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        this.child = undefined;
        child.kill('SIGKILL');
        throw new Error(`mosquitto did not start on port ${this.port}: ${this.log}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops the broker (SIGTERM by pid; it saves persistence first) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(killer);
  }

  /** Stops the broker and removes its files. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
