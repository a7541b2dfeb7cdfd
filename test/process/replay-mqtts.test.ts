// MQTT over TLS: alerts reach a real mosquitto TLS listener with the CA from ARGOS_MQTT_CA,
// and a broker certificate the CA did not sign is refused (the alerts wait in the outbox).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { runCli, lastJson } from '../helpers/cli.js';
import { Mosquitto, freePort } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/fake-time.js';

/** A throw-away CA and a server certificate for 127.0.0.1 signed by it. */
function makeCerts(dir: string, name: string): { ca: string; cert: string; key: string } {
  const f = (n: string) => join(dir, `${name}-${n}`);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name} test CA`, '-keyout', f('ca.key'), '-out', f('ca.pem'));
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr'));
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('server.ext'), '-out', f('server.pem'));
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

test('replay publishes alerts over mqtts:// to a TLS broker signed by ARGOS_MQTT_CA', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-mqtts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const good = makeCerts(dir, 'good');
  const other = makeCerts(dir, 'other');
  const tlsPort = await freePort();
  const broker = await Mosquitto.start({ extraConfig: [`listener ${tlsPort} 127.0.0.1`, `cafile ${good.ca}`, `certfile ${good.cert}`, `keyfile ${good.key}`] });
  t.after(() => broker.dispose());
  const url = `mqtts://127.0.0.1:${tlsPort}`;

  const seen: string[] = [];
  const sub = mqtt.connect(url, { ca: readFileSync(good.ca), clientId: `sub-${process.pid}`, reconnectPeriod: 100 });
  t.after(() => sub.end(true));
  sub.on('message', (_topic, payload) => seen.push((JSON.parse(payload.toString()) as { id: string }).id));
  await new Promise<void>((resolve, reject) => {
    sub.once('connect', () => resolve());
    sub.once('error', reject);
  });
  await sub.subscribeAsync('argos/+/alert', { qos: 1 });

  const ok = await runCli(['replay', '--demo', '--json', '--db', join(dir, 'a.db')], { env: { ARGOS_MQTT_URL: url, ARGOS_MQTT_CA: good.ca } });
  assert.equal(ok.code, 0, ok.stderr);
  const alerts = lastJson(ok.stdout).alerts as number;
  assert.ok(alerts > 0);
  await waitFor(() => new Set(seen).size >= alerts, 'every alert over TLS', 15_000);

  // A CA that did not sign the broker's certificate: no connection, nothing lost.
  const db = join(dir, 'b.db');
  const refused = await runCli(['replay', '--demo', '--json', '--db', db], { env: { ARGOS_MQTT_URL: url, ARGOS_MQTT_CA: other.ca, ARGOS_DRAIN_TIMEOUT: '2s', ARGOS_LOG_LEVEL: 'warn' } });
  assert.equal(refused.code, 0, refused.stderr);
  assert.match(refused.stderr, /certificate|self[- ]signed|verify/i);
  const stored = await runCli(['alerts', '--json', '--db', db]);
  assert.equal(stored.stdout.trim().split('\n').length, lastJson(refused.stdout).alerts, 'the alerts are kept for later delivery');
});

test('mutual TLS: ARGOS_MQTT_CERT and ARGOS_MQTT_KEY get through a broker that requires a client certificate', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'argos-mtls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = makeCerts(dir, 'mtls');
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const client = { key: join(dir, 'client.key'), csr: join(dir, 'client.csr'), cert: join(dir, 'client.pem') };
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=argos-edge-test', '-keyout', client.key, '-out', client.csr);
  ssl('x509', '-req', '-in', client.csr, '-CA', pki.ca, '-CAkey', join(dir, 'mtls-ca.key'), '-CAcreateserial', '-days', '2', '-out', client.cert);
  const tlsPort = await freePort();
  const broker = await Mosquitto.start({
    extraConfig: [`listener ${tlsPort} 127.0.0.1`, `cafile ${pki.ca}`, `certfile ${pki.cert}`, `keyfile ${pki.key}`, 'require_certificate true'],
  });
  t.after(() => broker.dispose());
  const url = `mqtts://127.0.0.1:${tlsPort}`;

  const seen = new Set<string>();
  const sub = mqtt.connect(url, { ca: readFileSync(pki.ca), cert: readFileSync(client.cert), key: readFileSync(client.key), clientId: `sub-${process.pid}`, reconnectPeriod: 100 });
  t.after(() => sub.end(true));
  sub.on('message', (_topic, payload) => seen.add((JSON.parse(payload.toString()) as { id: string }).id));
  await new Promise<void>((resolve, reject) => {
    sub.once('connect', () => resolve());
    sub.once('error', reject);
  });
  await sub.subscribeAsync('argos/+/alert', { qos: 1 });

  const env = { ARGOS_MQTT_URL: url, ARGOS_MQTT_CA: pki.ca, ARGOS_MQTT_CERT: client.cert, ARGOS_MQTT_KEY: client.key };
  const ok = await runCli(['replay', '--demo', '--json', '--db', join(dir, 'a.db')], { env });
  assert.equal(ok.code, 0, ok.stderr);
  const alerts = lastJson(ok.stdout).alerts as number;
  await waitFor(() => seen.size >= alerts, 'every alert over mutual TLS', 15_000);

  // Without the client certificate the broker refuses the connection; nothing is lost.
  const db = join(dir, 'b.db');
  const refused = await runCli(['replay', '--demo', '--json', '--db', db], { env: { ARGOS_MQTT_URL: url, ARGOS_MQTT_CA: pki.ca, ARGOS_DRAIN_TIMEOUT: '2s' } });
  assert.equal(refused.code, 0, refused.stderr);
  const stored = await runCli(['alerts', '--json', '--db', db]);
  assert.equal(stored.stdout.trim().split('\n').length, lastJson(refused.stdout).alerts);
  assert.equal(seen.size, alerts, 'nothing arrived from the client without a certificate');
});
