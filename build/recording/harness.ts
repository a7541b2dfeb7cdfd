// The harness of the recordings and the live scenario: the service a device runs, the
// attacker's side of the attack behaviours (a reverse-shell listener, a payload server, an
// exfiltration sink, all on this machine's loopback), and starting programs in a small
// device's environment.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { systemTimers } from '../../src/core/time.js';
import { delay } from '../../src/core/backoff.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
export const SCRIPTS = join(ROOT, 'build', 'recording');
export const ATTACKS = ['reverse_shell', 'web_shell', 'dropped_binary', 'credential_discovery', 'persistence_user', 'persistence_cron', 'port_scan', 'exfiltration'] as const;
export type AttackType = (typeof ATTACKS)[number];

export interface AttackLabel {
  type: AttackType;
  /** One run of one attack behaviour: `<type>#<rep>`. */
  instance: string;
}

function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
}

/** The attacker's side: a reverse-shell listener that sends commands, a payload and upload server, a raw exfiltration sink. */
export async function attacker(implant: Buffer): Promise<{ ports: Record<string, string>; close: () => Promise<void> }> {
  const shell = createTcpServer((s) => {
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    const cmds = ['id', 'uname -a', 'cat /etc/hostname', 'ls -la /tmp', 'exit'];
    let i = 0;
    const next = (): void => {
      if (i < cmds.length && !s.destroyed) {
        s.write(`${cmds[i++]}\n`);
        setTimeout(next, 150);
      } else setTimeout(() => s.destroy(), 500);
    };
    setTimeout(next, 300);
  });
  const sink = createTcpServer((s) => {
    s.on('error', () => undefined);
    s.resume();
  });
  const http = createHttpServer((req, res) => {
    req.resume();
    if (req.method === 'GET' && req.url === '/implant') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(implant);
    } else {
      req.on('end', () => res.end('ok\n'));
    }
  });
  const ports = { SHELL_PORT: String(await listen(shell)), EXFIL_PORT: String(await listen(sink)), DROP_PORT: String(await listen(http)) };
  const close = async (): Promise<void> => {
    for (const s of [shell, sink, http]) {
      (s as Server).close();
      if ('closeAllConnections' in s) s.closeAllConnections();
    }
  };
  return { ports, close };
}

/** The environment of a small device's root: the system's PATH, a home without shell start-up files. */
export function deviceEnv(work: string): Record<string, string> {
  return { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: join(work, 'home'), LANG: 'C.UTF-8', TERM: 'dumb' };
}

export function start(cmd: string, args: string[], env: Record<string, string>, cwd: string): ChildProcess {
  mkdirSync(join(cwd, 'home'), { recursive: true });
  return spawn(cmd, args, { env: { ...deviceEnv(cwd), ...env }, cwd, stdio: ['ignore', 'ignore', 'inherit'] });
}

export async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const gone = once(c, 'exit');
  c.kill('SIGTERM');
  await Promise.race([gone, delay(5000, systemTimers)]);
  if (c.exitCode === null && c.signalCode === null) {
    c.kill('SIGKILL');
    await gone;
  }
}

export async function freePort(): Promise<number> {
  const s = createTcpServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts the service and waits until it answers. */
export async function service(work: string, env: Record<string, string>): Promise<{ child: ChildProcess; port: string }> {
  const port = String(await freePort());
  const data = join(work, `service-${port}`);
  mkdirSync(data, { recursive: true });
  const child = start('/usr/bin/python3', [join(SCRIPTS, 'service.py'), port, data], env, work);
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/status`);
      await res.text();
      if (res.ok) return { child, port };
    } catch {
      // not listening yet
    }
    await delay(100, systemTimers);
  }
  throw new Error('the service did not start');
}

/** The implant the dropped-binary attack fetches: built from implant.c, or a copy of `id` without a compiler. */
export function buildImplant(work: string): Buffer {
  const path = join(work, 'implant');
  const built = spawnSync('cc', ['-O2', '-o', path, join(SCRIPTS, 'implant.c')], { stdio: 'inherit' });
  if (built.status !== 0) copyFileSync('/usr/bin/id', path);
  return readFileSync(path);
}
