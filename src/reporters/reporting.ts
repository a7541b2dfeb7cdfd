// Builds the configured reporters (MQTT when ARGOS_MQTT_URL is set, Ntfy when
// ARGOS_NTFY_TOPIC is set) with one outbox loop each, and runs them as one part:
// start connects and starts delivering; stop ends delivery, then disconnects.
import type { Config } from '../config/load.js';
import type { Counters } from '../core/counters.js';
import type { Logger } from '../core/logger.js';
import type { Lifecycle } from '../core/types.js';
import type { Store } from '../store/store.js';
import { MqttReporter } from './mqtt.js';
import { NtfyReporter } from './ntfy.js';
import { OutboxLoop } from './outbox.js';
import type { Reporter } from './reporter.js';

export type ReportingConfig = Pick<
  Config,
  'nodeName' | 'mqttUrl' | 'mqttUsername' | 'mqttPassword' | 'mqttPrefix' | 'mqttCa' | 'mqttCert' | 'mqttKey' | 'mqttStatsInterval' | 'ntfyServer' | 'ntfyTopic' | 'ntfyToken'
>;

export interface ReportingOptions {
  config: ReportingConfig;
  store: Store;
  counters: Counters;
  log: Logger;
}

export class Reporting implements Lifecycle {
  readonly mqtt: MqttReporter | undefined;
  readonly ntfy: NtfyReporter | undefined;
  private readonly loops: OutboxLoop[] = [];
  private readonly reporters: (Reporter & Lifecycle)[] = [];

  constructor(o: ReportingOptions) {
    const c = o.config;
    const node = c.nodeName ?? 'unknown';
    if (c.mqttUrl !== undefined) {
      this.mqtt = new MqttReporter({
        url: c.mqttUrl,
        username: c.mqttUsername,
        password: c.mqttPassword,
        caFile: c.mqttCa,
        certFile: c.mqttCert,
        keyFile: c.mqttKey,
        prefix: c.mqttPrefix,
        node,
        log: o.log.child({ module: 'mqtt' }),
        statsIntervalMs: c.mqttStatsInterval,
        stats: () => ({ counters: o.counters.snapshot(), outbox: o.store.outboxDepth() }),
      });
      this.reporters.push(this.mqtt);
    }
    if (c.ntfyTopic !== undefined) {
      this.ntfy = new NtfyReporter({ server: c.ntfyServer, topic: c.ntfyTopic, token: c.ntfyToken, log: o.log.child({ module: 'ntfy' }) });
      this.reporters.push(this.ntfy);
    }
    for (const reporter of this.reporters) this.loops.push(new OutboxLoop({ store: o.store, reporter, log: o.log.child({ module: 'outbox', reporter: reporter.name }) }));
  }

  /** Outbox names for the alerter: every alert is queued for each. */
  get names(): string[] {
    return this.reporters.map((r) => r.name);
  }

  /** An alert was queued: deliver it now. Pass as the alerter's `onQueued`. */
  wake(): void {
    for (const l of this.loops) l.wake();
  }

  /** True once every outbox is empty; false when `timeoutMs` passed first. */
  async drain(timeoutMs: number): Promise<boolean> {
    const results = await Promise.all(this.loops.map((l) => l.drain(timeoutMs)));
    return results.every(Boolean);
  }

  async start(): Promise<void> {
    for (const r of this.reporters) await r.start();
    for (const l of this.loops) await l.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.loops.map((l) => l.stop()));
    await Promise.all(this.reporters.map((r) => r.stop()));
  }
}
