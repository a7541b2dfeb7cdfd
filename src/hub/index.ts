// The composition root of `argos hub`: builds the store, the MQTT ingest, the command
// sender, the API with the dashboard and the retention task from the configuration, and
// starts them in that order (stopped in reverse: the API first, the database last).
import { hostname } from 'node:os';
import type { Config } from '../config/load.js';
import { ConfigError } from '../config/load.js';
import { SETTINGS } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import { LifecycleGroup } from '../core/lifecycle.js';
import type { Lifecycle } from '../core/types.js';
import { topicSegment } from '../core/sanitize.js';
import { systemClock, systemTimers, type Clock, type Timers } from '../core/time.js';
import { HubStore } from './store/store.js';
import { openHubDatabase } from './store/open.js';
import type { HubDatabase } from './store/database.js';
import type { IngestRecord } from './store/records.js';
import { MqttIngest } from './ingest/ingest.js';
import { Commander } from './commands.js';
import { createHubMetrics } from './metrics.js';
import { TokenCheck } from './api/auth.js';
import { createApp } from './api/app.js';
import { dashboardFiles } from './api/assets.js';
import { HubHttpServer } from './api/server.js';
import { HubRetention } from './retention.js';

export interface HubOptions {
  config: Config;
  log: Logger;
  clock?: Clock;
  timers?: Timers;
  /** Opens the database (tests pass their own); default: ARGOS_HUB_DATABASE_URL. */
  openDatabase?: () => Promise<HubDatabase>;
  /** Read the retained status and state at start (default true). */
  sweep?: boolean;
  /** Process metrics in /metrics (default true; off when several hubs share a test process). */
  processMetrics?: boolean;
  /** Called after each committed batch with its records (benchmarks time each alert). */
  onStored?: (records: readonly IngestRecord[]) => void;
}

export interface Hub extends Lifecycle {
  readonly store: HubStore;
  readonly ingest: MqttIngest;
  readonly http: HubHttpServer;
}

/** What `argos hub` cannot run without (loadConfig's `required`; exit code 78 when missing). */
export const HUB_REQUIRED: Partial<Record<keyof Config, string>> = {
  mqttUrl: 'for argos hub (the broker the nodes publish to)',
  hubToken: 'for argos hub (the API has no anonymous access); e.g. openssl rand -hex 32',
};

/** Throws the same problems as loadConfig for a configuration built without `required`. */
export function checkHubConfig(c: Config): void {
  const problems = Object.entries(HUB_REQUIRED)
    .filter(([key]) => c[key as keyof Config] === undefined)
    .map(([key, why]) => `${SETTINGS.find((s) => s.key === key)?.env[0] ?? key}: is required ${why}`);
  if (problems.length > 0) throw new ConfigError(problems);
}

export function buildHub(o: HubOptions): Hub {
  const c = o.config;
  checkHubConfig(c);
  const clock = o.clock ?? systemClock;
  const timers = o.timers ?? systemTimers;
  const log = o.log;
  const store = new HubStore({ open: o.openDatabase ?? (() => openHubDatabase(c.hubDatabaseUrl)) });
  // Sources are read at scrape time, so the metrics can exist before their owners.
  const metrics = createHubMetrics(
    { counters: () => ingest.counters, connected: () => ingest.connectedCount, waiting: () => ingest.writer.waiting, commands: () => commander.counts },
    o.processMetrics ?? true,
  );
  const ingest = new MqttIngest({
    broker: { url: c.mqttUrl!, username: c.mqttUsername, password: c.mqttPassword, caFile: c.mqttCa, certFile: c.mqttCert, keyFile: c.mqttKey },
    prefix: c.mqttPrefix,
    group: c.hubGroup,
    instance: c.hubInstance ?? topicSegment(hostname()),
    connections: c.hubConnections,
    sessionExpirySeconds: Math.round(c.hubSessionExpiry / 1000),
    store: { write: (records) => store.write(records) },
    onWritten: (records) => {
      metrics.observeBatch(records, clock.now());
      o.onStored?.(records);
    },
    sweep: o.sweep,
    log: log.child({ module: 'ingest' }),
    clock,
    timers,
  });
  const commander = new Commander({ store, mqtt: ingest, prefix: c.mqttPrefix, clock });
  const app = createApp({
    store,
    commander,
    tokens: new TokenCheck(c.hubToken!, c.hubReadToken),
    registry: metrics.registry,
    files: dashboardFiles(),
    health: () => ({ ok: ingest.connected, mqtt: ingest.connected }),
    clock,
    log: log.child({ module: 'api' }),
  });
  const http = new HubHttpServer({ address: c.hubHttp, app, log });
  const retention = new HubRetention({ store, maxAgeMs: c.hubRetentionAge, log, clock, timers });
  const group = new LifecycleGroup(
    [
      { name: 'store', part: store },
      { name: 'retention', part: retention },
      { name: 'ingest', part: ingest },
      { name: 'http', part: http },
    ],
    log,
  );
  return { store, ingest, http, start: () => group.start(), stop: () => group.stop() };
}
