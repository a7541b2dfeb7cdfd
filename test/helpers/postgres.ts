// A real PostgreSQL server for tests: Debian's binaries, a cluster made by initdb in a
// temporary folder, listening on 127.0.0.1 on a free port (and a socket in that folder only),
// stopped with pg_ctl and deleted. Never the system cluster. As root, the server runs as the
// `postgres` user (PostgreSQL refuses to run as root).
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './mosquitto.js';

/** Folder of initdb and pg_ctl: the newest version Debian installed. */
export function postgresBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : undefined;
}

export class Postgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
    private readonly asUser: string | undefined,
  ) {}

  /** postgres://argos@127.0.0.1:PORT/argos */
  get url(): string {
    return `postgres://argos@127.0.0.1:${this.port}/argos`;
  }

  private run(tool: string, args: string[]): void {
    const cmd = this.asUser ? 'runuser' : join(this.bin, tool);
    const full = this.asUser ? ['-u', this.asUser, '--', join(this.bin, tool), ...args] : args;
    const r = spawnSync(cmd, full, { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${tool} failed (${r.status}): ${r.stderr || r.stdout}`);
  }

  /** initdb, start on a free loopback port, create the database `argos`. */
  static async start(): Promise<Postgres> {
    const bin = postgresBin();
    if (!bin) throw new Error('PostgreSQL is not installed: bash build/setup.sh --with-test-tools');
    const dir = mkdtempSync(join(tmpdir(), 'argos-pg-'));
    const asUser = userInfo().uid === 0 ? 'postgres' : undefined;
    if (asUser) {
      const uid = Number(execFileSync('id', ['-u', asUser], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', asUser], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
    }
    const pg = new Postgres(dir, await freePort(), bin, asUser);
    const data = join(dir, 'data');
    pg.run('initdb', ['-D', data, '-U', 'argos', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const options = `-h 127.0.0.1 -p ${pg.port} -k ${dir} -c fsync=on -c max_connections=60 -c shared_buffers=64MB`;
    pg.run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
    const r = spawnSync(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'argos', 'argos'], { encoding: 'utf8' });
    if (r.status !== 0) {
      await pg.dispose();
      throw new Error(`createdb failed: ${r.stderr}`);
    }
    return pg;
  }

  /** A fresh, empty database on this server (one per test case). */
  createDatabase(name: string): string {
    const r = spawnSync(join(this.bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'argos', name], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`createdb ${name} failed: ${r.stderr}`);
    return `postgres://argos@127.0.0.1:${this.port}/${name}`;
  }

  /** Stops the server (fast shutdown) and deletes its folder. */
  async dispose(): Promise<void> {
    try {
      this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'fast', '-w', '-t', '30', 'stop']);
    } catch {
      // Not running (a failed start): nothing to stop.
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
