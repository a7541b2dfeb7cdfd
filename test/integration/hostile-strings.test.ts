// Strings from the watched host are attacker-chosen: binary names, arguments, pod names and
// node names with terminal escape sequences, C0/C1 controls, bidirectional overrides, line
// separators, lone surrogates, invalid UTF-8, MQTT wildcards, HTML and very long values.
// Wherever they go — log lines, MQTT topics and payloads (a real broker), Ntfy headers and
// bodies, `argos alerts`' table, `argos replay`'s list — nothing a terminal acts on gets
// through, JSON stays valid with the same values, and lengths stay bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loggerOptions } from '../../src/core/logger.js';
import { MqttReporter } from '../../src/reporters/mqtt.js';
import { NTFY_MAX_BODY, ntfyRequest } from '../../src/reporters/ntfy.js';
import { SqliteStore } from '../../src/store/store.js';
import { processInfoFromLine } from '../../src/parser/index.js';
import { safeText, topicSegment } from '../../src/core/sanitize.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Subscriber } from '../helpers/mqtt-subscriber.js';
import { makeAlert } from '../helpers/alerts.js';
import { runCli, runInProcess } from '../helpers/cli.js';
import { hasDuplicateKeys } from '../helpers/json-keys.js';
import { silentLogger } from '../../src/core/logger.js';
import type { AnomalyAlert } from '../../src/core/alert.js';

const ESC = '\u001b';
const HOSTILE = [
  `${ESC}[2J${ESC}[31mred${ESC}]0;owned\u0007`,
  '\u009b31mC1 CSI',
  'invoice\u202egpj.exe',
  'line\u2028separator\nnewline\rreturn',
  'lone \ud800 surrogate',
  'a/+/#/$SYS',
  '<script>alert(1)</script><img src=x onerror=alert(2)>',
  '\u0000nul\u007fdel',
];
const LONG = 'A'.repeat(200_000);

/** Characters a terminal may act on, or that are not text. */
const TERMINAL_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function assertTerminalSafe(text: string, where: string): void {
  const m = TERMINAL_UNSAFE.exec(text);
  assert.equal(m, null, `${where}: U+${m?.[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${m?.index}: ${JSON.stringify(text.slice(Math.max(0, (m?.index ?? 0) - 40), (m?.index ?? 0) + 40))}`);
}

function hostileAlert(i: number, s: string): AnomalyAlert {
  return makeAlert(i, Date.UTC(2025, 0, 1), {
    node: `node ${s}`,
    process: { pid: 4000 + i, exec_id: `exec-${s}`, binary: `/tmp/${s}`, arguments: `--x ${s} ${LONG}` },
    pod: { namespace: `ns-${s}`, name: `pod-${s}`, container: `c-${s}` },
    program: `/tmp/${s}`,
  });
}

void test('log lines: valid JSON with the same values, nothing for a terminal, no URL credentials, no key twice', () => {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const log = pino(loggerOptions('debug'), sink).child({ module: 'alerter' });
  for (const s of HOSTILE) {
    log.warn({ binary: s, pod: { name: s } }, `anomalous process ${s}`);
    log.error({ err: new Error(`connect to mqtt://argos:hunter2@broker:1883 failed: ${s}`) }, 'MQTT error');
  }
  const lines = out.trim().split('\n');
  assert.equal(lines.length, HOSTILE.length * 2);
  lines.forEach((line, i) => {
    assertTerminalSafe(line, `log line ${i}`);
    assert.ok(!line.includes('hunter2'), line);
    assert.equal(hasDuplicateKeys(line), false, line);
    const parsed = JSON.parse(line) as { binary?: string; msg: string };
    if (i % 2 === 0) {
      const s = HOSTILE[i / 2];
      // Lone surrogates are the one thing JSON cannot carry as they are.
      if (!/[\ud800-\udfff]/.test(s)) assert.equal(parsed.binary, s, 'the value survives, escaped');
    }
  });
});

void test('MQTT: a hostile node name is one safe topic level; hostile alert fields reach a subscriber as safe, valid JSON with the same values', async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const sub = await Subscriber.connect(broker.url, 'argos/#');
  t.after(() => sub.close());
  for (const [i, s] of HOSTILE.entries()) {
    const seg = topicSegment(`edge ${s}${LONG}`);
    assert.ok(!/[/+#\s]/.test(seg) && seg.length <= 64, seg);
    assertTerminalSafe(seg, 'topic level');
    const mqtt = new MqttReporter({ url: broker.url, prefix: 'argos', node: `edge ${s}${LONG}`, log: silentLogger(), backoff: { initialMs: 50, maxMs: 200 } });
    await mqtt.start();
    await sub.waitFor(() => sub.messages.some((m) => m.topic === mqtt.topic('status')), 'status online');
    const alert = hostileAlert(i, s);
    const r = await mqtt.send({ id: i + 1, reporter: 'mqtt', alertId: alert.id, payload: JSON.stringify(alert), attempts: 0, created: 0 });
    assert.deepEqual(r, { kind: 'delivered' });
    await mqtt.stop();
    const topic = mqtt.topic('alert');
    assert.equal(topic.split('/').length, 3, topic);
    assert.equal(topic, `argos/${seg}/alert`);
    await sub.waitFor(() => sub.on(topic).length > 0, 'the alert');
    const got = sub.on(topic)[0].payload;
    assertTerminalSafe(got, 'MQTT payload');
    const parsed = JSON.parse(got) as AnomalyAlert;
    if (!/[\ud800-\udfff]/.test(s)) assert.deepEqual(parsed, alert, 'the same values');
  }
});

void test('Ntfy: headers are printable ASCII, the body has no control character but newlines and stays under 4 KiB', () => {
  for (const [i, s] of HOSTILE.entries()) {
    const req = ntfyRequest('https://ntfy.example', 'alerts', hostileAlert(i, s), 'tok');
    for (const [k, v] of Object.entries(req.headers)) assert.match(v, /^[\x20-\x7e]*$/, `${k}: ${JSON.stringify(v)}`);
    assert.ok(Buffer.byteLength(req.body) <= NTFY_MAX_BODY, `${Buffer.byteLength(req.body)} bytes`);
    assertTerminalSafe(req.body, 'Ntfy body');
    // HTML stays inert: plain text, never Markdown (no Markdown header), so ntfy shows it as text.
    assert.equal(req.headers['Content-Type'], 'text/plain; charset=utf-8');
    assert.ok(!Object.keys(req.headers).some((k) => /markdown/i.test(k)));
    assert.ok(new URL(req.url).pathname.split('/').length === 2, req.url);
  }
});

void test('argos alerts and argos replay: hostile host strings print as safe text, one line per alert', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-hostile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = join(dir, 'argos.db');
  const store = new SqliteStore({ path: db });
  await store.start();
  HOSTILE.forEach((s, i) => store.saveAlert(hostileAlert(i, s), []));
  await store.stop();
  const table = await runInProcess(['alerts', '--db', db], { env: {} });
  assert.equal(table.code, 0, table.stderr);
  assertTerminalSafe(table.stdout.replace(/\n/g, ' '), 'argos alerts');
  const lines = table.stdout.trim().split('\n');
  assert.equal(lines.length, 1 + HOSTILE.length + 1, table.stdout);
  assert.ok(lines.every((l) => l.length < 300), 'long values are cut');

  // The same strings in a recording replayed to the terminal (and to the log).
  const lineFor = (kind: string, i: number, s: string, extra = ''): string =>
    JSON.stringify({ [kind]: { process: { exec_id: `e${i}`, pid: 100 + i, binary: `/bin/${s}${LONG}`, arguments: s, pod: { namespace: s, name: s } }, ...(extra ? JSON.parse(extra) : {}) }, time: '2025-01-01T00:00:00Z' });
  const rec: string[] = [];
  HOSTILE.forEach((s, i) => {
    rec.push(lineFor('process_exec', i, s));
    for (let k = 0; k < 40; k++) rec.push(lineFor('process_tracepoint', i, s, '{"subsys":"raw_syscalls","event":"sys_enter","args":[{"syscall_id":{"id":59,"abi":"x64"}}]}'));
    rec.push(lineFor('process_exit', i, s));
    rec.push(`${s}\u00ff\u00fe not json ${s}`);
  });
  const file = join(dir, 'hostile.jsonl');
  writeFileSync(file, `${rec.join('\n')}\n`);
  // Invalid UTF-8 bytes in the file as well.
  writeFileSync(file, Buffer.concat([Buffer.from(`${rec.join('\n')}\n`), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x0a])]));
  const r = await runCli(['replay', file, '--log-level', 'debug'], { env: { ARGOS_THRESHOLD: '0' } });
  assert.equal(r.code, 0, r.stderr.slice(-2000));
  assert.match(r.stdout, /alerts?:/);
  assertTerminalSafe(r.stdout.replace(/\n/g, ' '), 'argos replay');
  for (const line of r.stderr.trim().split('\n')) {
    if (!line.startsWith('{')) continue;
    assertTerminalSafe(line, 'replay log');
    assert.equal(hasDuplicateKeys(line), false, `a key twice: ${line.slice(0, 300)}`);
  }
  assert.ok(r.stdout.split('\n').every((l) => l.length < 400), 'long binaries are cut on the terminal');
});

void test('very long host strings are cut where events are read, and safeText caps', () => {
  const p = processInfoFromLine(JSON.stringify({ process_exec: { process: { exec_id: 'x', pid: 1, binary: LONG, arguments: LONG + LONG, pod: { namespace: LONG, name: LONG } } }, time: 't' }));
  assert.ok(p !== undefined);
  assert.ok(p.binary.length <= 4096 && p.arguments.length <= 65_536 && p.pod!.name.length <= 253, 'bounded');
  assert.equal(safeText(`${ESC}[31m${LONG}`, 10).length, 10);
});
