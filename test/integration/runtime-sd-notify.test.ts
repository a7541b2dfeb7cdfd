// Real datagrams to a real unix socket: through libc under Bun, through systemd-notify under Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SdNotify, systemdNotifyTransport } from '../../src/runtime/sd-notify.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BUN = join(ROOT, 'node_modules', '.bin', 'bun');

interface Receiver {
  messages: Promise<string[]>;
}

/** Starts the Bun receiver and resolves once it is bound. */
async function receive(socket: string, count: number, t: { after(fn: () => void): void }): Promise<Receiver> {
  const child: ChildProcess = spawn(BUN, [join(ROOT, 'test/helpers/notify-receiver.ts'), socket, String(count), '5000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => child.kill());
  const lines = createInterface({ input: child.stdout! });
  const got: string[] = [];
  let ready!: () => void;
  const listening = new Promise<void>((r) => (ready = r));
  const messages = new Promise<string[]>((res) => {
    lines.on('line', (l) => (l === 'listening' ? ready() : got.push(JSON.parse(l) as string)));
    child.once('exit', () => {
      ready();
      res(got);
    });
  });
  await listening;
  return { messages };
}

function scratch(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'argos-notify-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

void test('under Bun, notifications go straight to the socket through libc', async (t) => {
  const dir = scratch(t);
  const socket = join(dir, 'notify.sock');
  const rx = await receive(socket, 3, t);
  const script = join(dir, 'send.ts');
  writeFileSync(
    script,
    `import { SdNotify } from ${JSON.stringify(join(ROOT, 'src/runtime/sd-notify.ts'))};\n` +
      `const n = new SdNotify({ env: process.env });\n` +
      `const ok = [await n.ready('up'), await n.notify('WATCHDOG=1'), await n.stopping()];\n` +
      `process.stdout.write(JSON.stringify(ok));\n`,
  );
  const sender = spawn(BUN, [script], { env: { ...process.env, NOTIFY_SOCKET: socket, PATH: '/nonexistent' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  sender.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => sender.once('exit', r));
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(out), [true, true, true], 'sent without systemd-notify (PATH has none)');
  assert.deepEqual(await rx.messages, ['READY=1\nSTATUS=up', 'WATCHDOG=1', 'STOPPING=1\nSTATUS=stopping']);
});

void test('under Node, systemd-notify delivers them (and its barrier is released)', async (t) => {
  const dir = scratch(t);
  const socket = join(dir, 'notify.sock');
  // systemd-notify adds a BARRIER=1 datagram after each message and waits for it to be taken.
  const rx = await receive(socket, 4, t);
  const n = new SdNotify({ env: { NOTIFY_SOCKET: socket }, transport: systemdNotifyTransport });
  assert.equal(await n.ready('up'), true);
  assert.equal(await n.stopping(), true);
  const msgs = (await rx.messages).filter((m) => m !== 'BARRIER=1');
  assert.deepEqual(msgs, ['READY=1\nSTATUS=up', 'STOPPING=1\nSTATUS=stopping']);
});

void test('a socket nobody listens on is a false result, not an exception', async (t) => {
  const dir = scratch(t);
  const n = new SdNotify({ env: { NOTIFY_SOCKET: join(dir, 'none.sock') }, transport: systemdNotifyTransport });
  assert.equal(await n.ready(), false);
});
