// The dashboard in a real headless Chromium (Debian's), served by a hub in this process over
// a real mosquitto: the fleet and the alerts appear, hostile host strings show as text and
// never as markup, and "Allow this alert" reaches the node's command topic.
// ARGOS_UPDATE_SCREENSHOT=1 also writes docs/hub-dashboard.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/logger.js';
import { buildHub, type Hub } from '../../src/hub/index.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Subscriber } from '../helpers/mqtt-subscriber.js';
import { waitFor } from '../helpers/fake-time.js';
import { makeAlert } from '../helpers/alerts.js';
import { newProgram, state, stats } from '../helpers/hub-store-cases.js';

const TOKEN = 'dashboard-token-0123456789';
const HOSTILE = '<img src=x onerror="window.__pwned=1">\u202e<b>bold</b>';
const dir = mkdtempSync(join(tmpdir(), 'argos-hub-dash-'));
let broker: Mosquitto;
let hub: Hub;
let node: MqttClient;
let browser: BrowserContext;
let base: string;

before(async () => {
  broker = await Mosquitto.start();
  const config = loadConfig({
    env: { ARGOS_MQTT_URL: broker.url, ARGOS_HUB_TOKEN: TOKEN, ARGOS_HUB_HTTP: '127.0.0.1:0', ARGOS_HUB_DATABASE_URL: join(dir, 'hub.db'), ARGOS_HUB_INSTANCE: 'dash', ARGOS_HUB_CONNECTIONS: '1' },
  });
  hub = buildHub({ config, log: silentLogger(), processMetrics: false, sweep: false });
  await hub.start();
  base = `http://127.0.0.1:${hub.http.address()?.port}`;
  node = await mqtt.connectAsync(broker.url, { clientId: 'dash-nodes' });
  await waitFor(() => hub.ingest.connected, 'the hub connected');
  // A fresh profile in the temporary folder (Playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(join(dir, 'chromium'), {
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1400, height: 1000 },
  });
});

after(async () => {
  await browser?.close();
  await node?.endAsync();
  await hub?.stop();
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Waits (bounded) until the alert list's row count satisfies `ok`. Polled from here: the
 * page's Content-Security-Policy forbids evaluating strings in it, as it should.
 */
async function rowsUntil(page: Page, ok: (n: number) => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    const n = await page.locator('#alert-list tbody tr').count();
    if (ok(n)) return;
    if (Date.now() > end) throw new Error(`the alert list kept ${n} rows`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A small fleet: four nodes in different states, alerts over the last hours, one hostile. */
async function publishFleet(): Promise<{ hostileId: string }> {
  const now = Date.now();
  const fleet: [string, 'online' | 'offline', 'learning' | 'training' | 'detecting', number][] = [
    ['gateway-01', 'online', 'detecting', 3],
    ['camera-07', 'online', 'learning', 0],
    ['plc-12', 'offline', 'detecting', 2],
    ['kiosk-3', 'online', 'training', 0],
  ];
  for (const [name, status, s, version] of fleet) {
    await node.publishAsync(`argos/${name}/status`, status, { qos: 1 });
    await node.publishAsync(`argos/${name}/state`, JSON.stringify(state(name, now, s, version)), { qos: 1 });
    await node.publishAsync(`argos/${name}/stats`, JSON.stringify(stats(name, now, 1000)), { qos: 1 });
  }
  let n = 0;
  for (let h = 20; h >= 0; h--) {
    for (let k = 0; k < (h % 5) + (h < 4 ? 6 : 1); k++) {
      const name = fleet[(h + k) % 3][0];
      const a = makeAlert(n++, now - h * 3_600_000 - k * 60_000, { node: name, score: 3 + (k % 3), threshold: 2.79, why: [{ calls: 'open read mmap execve', surprisal: 6.2 }, { calls: 'socket connect', surprisal: 4.1 }] });
      await node.publishAsync(`argos/${name}/alert`, JSON.stringify(a), { qos: 1 });
    }
  }
  await node.publishAsync('argos/camera-07/alert', JSON.stringify(newProgram(1, now - 7_200_000, 'camera-07')), { qos: 1 });
  const hostile = makeAlert(9999, now - 60_000, {
    node: 'gateway-01',
    program: HOSTILE,
    process: { pid: 666, exec_id: 'e', binary: HOSTILE, arguments: `--x '${HOSTILE}'` },
    pod: { namespace: 'shop', name: '<script>window.__pwned=2</script>' },
    why: [{ calls: '<svg onload="window.__pwned=3">', surprisal: 9 }],
  });
  await node.publishAsync('argos/gateway-01/alert', JSON.stringify(hostile), { qos: 1 });
  await waitFor(() => hub.ingest.counters.stored.alert === n + 2, 'the alerts stored');
  return { hostileId: hostile.id };
}

void test('the fleet and the alerts appear; hostile strings stay text; allow reaches the node\'s command topic', async () => {
  const { hostileId } = await publishFleet();
  const cmds = await Subscriber.connect(broker.url, 'argos/+/cmd');
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`${base}/`);
    await page.waitForSelector('#message:not([hidden])');
    assert.match((await page.textContent('#message')) ?? '', /token/i);
    await page.fill('#token', 'wrong-token-00000000000');
    await page.click('#token-form button');
    await page.locator('#message', { hasText: 'refused' }).waitFor();
    await page.fill('#token', TOKEN);
    await page.click('#token-form button');
    await page.waitForSelector('#nodes tbody tr');
    const fleet = await page.$$eval('#nodes tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent?.trim() ?? '')));
    assert.deepEqual(
      fleet.map((r) => r[0]),
      ['camera-07', 'gateway-01', 'kiosk-3', 'plc-12'],
    );
    assert.match(fleet[3][1], /^offline/);
    assert.match(fleet[0][2], /learning/);
    assert.match((await page.textContent('#summary')) ?? '', /3 online.*1 offline.*2 learning.*2 detecting/);
    await page.waitForSelector('#plot canvas');
    const rows = await page.$$('#alert-list tbody tr');
    assert.ok(rows.length > 40, `${rows.length} alerts listed`);

    // The hostile alert: its strings are text, nothing they name was created or ran.
    const hostileRow = page.locator(`#alert-list tbody tr[data-id="${hostileId}"]`);
    await hostileRow.click();
    await page.waitForSelector('#detail:not([hidden])');
    const detail = (await page.textContent('#detail')) ?? '';
    assert.ok(detail.includes('<img src=x onerror="window.__pwned=1">'), 'shown as text');
    assert.ok(detail.includes('<script>window.__pwned=2</script>'));
    assert.ok(!detail.includes('\u202e'), 'bidirectional override stripped');
    assert.equal(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.locator('main img, main b, main script, main svg').count(), 0);
    assert.match(detail, /score 0\.900 against threshold 0\.500/);

    // Filters: one node, new programs only.
    await page.fill('#filters input[name=node]', 'camera-07');
    await page.selectOption('#filters select[name=kind]', 'new_program');
    await page.click('#filters button');
    await rowsUntil(page, (n) => n === 1);
    await page.fill('#filters input[name=node]', '');
    await page.selectOption('#filters select[name=kind]', '');
    await page.click('#filters button');
    await rowsUntil(page, (n) => n > 40);

    // The operator allows the selected alert: the command reaches gateway-01's cmd topic.
    await page.click('#allow-alert');
    await cmds.waitFor((s) => s.on('argos/gateway-01/cmd').length === 1, 'the allow command');
    const sent = JSON.parse(cmds.on('argos/gateway-01/cmd')[0].payload) as Record<string, unknown>;
    assert.equal(sent.command, 'allow');
    assert.equal(sent.alert, hostileId);
    await node.publishAsync('argos/gateway-01/cmd/result', JSON.stringify({ id: sent.id, node: 'gateway-01', time: new Date().toISOString(), command: 'allow', ok: true, message: 'alert allowed; its windows join the baseline' }), { qos: 1 });
    await waitFor(() => hub.ingest.counters.stored.result === 1, 'the result stored');
    await hostileRow.click();
    await page.locator('#detail-commands', { hasText: 'done: alert allowed' }).waitFor();
    assert.match((await page.textContent('#message')) ?? '', /sent allow to gateway-01/);
    assert.deepEqual(errors, []);
    if (process.env.ARGOS_UPDATE_SCREENSHOT) {
      await page.locator(`#alert-list tbody tr`).nth(3).click();
      await page.locator('#detail-fields', { hasText: '/usr/bin/tool' }).waitFor();
      await page.screenshot({ path: resolve(import.meta.dirname, '../../docs/hub-dashboard.png') });
    }
  } finally {
    await page.close();
    await cmds.close();
  }
});
