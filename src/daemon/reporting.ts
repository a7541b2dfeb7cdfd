// The configured reporters: MQTT when ARGOS_MQTT_URL is set, Ntfy when ARGOS_NTFY_TOPIC is.
import type { Config } from '../config/load.js';
import type { Counters } from '../core/counters.js';
import type { CommandResult } from '../core/mqtt.js';
import type { Logger } from '../core/logger.js';
import type { OutboxStore } from '../core/storage.js';
import type { Lifecycle } from '../core/types.js';
import { MqttReporter } from '../reporters/mqtt.js';
import { NtfyReporter } from '../reporters/ntfy.js';
import type { Reporter } from '../reporters/reporter.js';
import { Reporting } from '../reporters/reporting.js';

export type ReportingConfig = Pick<
  Config,
  'nodeName' | 'mqttUrl' | 'mqttUsername' | 'mqttPassword' | 'mqttPrefix' | 'mqttCa' | 'mqttCert' | 'mqttKey' | 'mqttStatsInterval' | 'ntfyServer' | 'ntfyTopic' | 'ntfyToken'
>;

export interface ConfiguredReporting {
  reporting: Reporting;
  mqtt: MqttReporter | undefined;
  ntfy: NtfyReporter | undefined;
}

export function buildReporting(o: {
  config: ReportingConfig;
  store: OutboxStore;
  counters: Counters;
  log: Logger;
  /** Runs the commands that come on `<prefix>/<node>/cmd` (no subscription without it). */
  onCommand?: (payload: Buffer) => Promise<CommandResult>;
}): ConfiguredReporting {
  const c = o.config;
  const node = c.nodeName ?? 'unknown';
  const reporters: (Reporter & Lifecycle)[] = [];
  let mqtt: MqttReporter | undefined;
  let ntfy: NtfyReporter | undefined;
  if (c.mqttUrl !== undefined) {
    mqtt = new MqttReporter({
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
      ...(o.onCommand === undefined ? {} : { onCommand: o.onCommand }),
    });
    reporters.push(mqtt);
  }
  if (c.ntfyTopic !== undefined) {
    ntfy = new NtfyReporter({ server: c.ntfyServer, topic: c.ntfyTopic, token: c.ntfyToken, log: o.log.child({ module: 'ntfy' }) });
    reporters.push(ntfy);
  }
  return { reporting: new Reporting({ reporters, store: o.store, log: o.log }), mqtt, ntfy };
}
