// Every setting in one table: its environment name(s), its schema and its documentation.
// The config type is derived from the schema; `.env.sample` is checked against this table.
import { z } from 'zod';
import { parseDuration, parseBytes } from './units.js';

const SOURCES = ['managed', 'export', 'tetra', 'stdin', 'replay', 'bpftrace'] as const;
export type SourceKind = (typeof SOURCES)[number];

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const duration = z.string().transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not a duration (use e.g. 500ms, 30s, 5m, 2h, 7d)` });
    return z.NEVER;
  }
  return ms;
});

const bytes = z.string().transform((s, ctx) => {
  const n = parseBytes(s);
  if (n === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not a size (use e.g. 512k, 100M, 2G)` });
    return z.NEVER;
  }
  return n;
});

const optionalString = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? undefined : s));

const boolean = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const mqttUrl = optionalString.refine(
  (s) => s === undefined || /^(mqtts?|wss?|tcp|ssl):\/\/[^/\s]+/.test(s),
  'must be an mqtt://, mqtts://, tcp://, ssl://, ws:// or wss:// URL',
);

const httpUrl = z.string().refine((s) => /^https?:\/\/[^/\s]+/.test(s), 'must be an http:// or https:// URL');

const listenAddress = z
  .string()
  .refine((s) => s === '' || /^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/.test(s), 'must be HOST:PORT (e.g. 127.0.0.1:9464), or empty to disable');

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** One documented setting. `env[0]` is the preferred name; later names are accepted aliases. */
export interface Setting {
  key: keyof ConfigShape;
  env: readonly string[];
  doc: string;
  /** Default as it appears in `.env.sample` (empty = unset). */
  sample: string;
  /** An empty value means something (e.g. "off") instead of "use the default". */
  emptyIsValue?: true;
  /** A secret: a problem with it never repeats the value. */
  secret?: true;
}

const shape = {
  source: z.enum(SOURCES, { error: `must be one of ${SOURCES.join(', ')}` }).default('managed'),
  tetragonBin: z.string().min(1).default('tetragon'),
  tetragonPolicy: z.string().min(1).optional(),
  tetragonExportFile: z.string().min(1).default('/var/run/argos/tetragon.log'),
  tetragonArgs: z.string().default(''),
  tetragonReadyTimeout: duration.default(30_000),
  exportFile: z.string().min(1).default('/var/log/tetragon/tetragon.log'),
  tetraBin: z.string().min(1).default('tetra'),
  tetraServer: optionalString,
  bpftraceBin: z.string().min(1).default('bpftrace'),
  bpftraceRootPid: int(1).optional(),
  replayFile: optionalString,
  replaySpeed: z
    .string()
    .default('max')
    .refine((s) => s === 'max' || s === 'recorded' || (Number.isFinite(Number(s)) && Number(s) > 0), 'must be "max", "recorded" or a positive speed factor such as 2'),
  modelDir: optionalString,
  modelPath: optionalString,
  mappingPath: optionalString,
  window: int(2, 65536).optional(),
  delta: int(1, 65536).optional(),
  minWindow: int(1, 65536).optional(),
  maxProcesses: int(1).default(20_000),
  idleFlush: duration.default(5000),
  workers: int(1, 64).default(1),
  classifierMode: z.enum(['worker', 'inline'], { error: 'must be worker or inline' }).optional(),
  batchSize: int(1, 4096).default(64),
  queueMax: int(1).default(4096),
  threshold: z.coerce.number({ error: 'must be a number' }).optional(),
  throttleWindow: duration.default(60_000),
  throttleMax: int(1).default(100),
  newProgramAllow: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((g) => g.trim()).filter((g) => g !== '')),
  nodeName: optionalString,
  dbPath: z.string().min(1).default('/var/lib/argos/argos.db'),
  retentionAge: duration.default(30 * 86_400_000),
  retentionSize: bytes.default(256 * 1024 * 1024),
  mqttUrl,
  mqttUsername: optionalString,
  mqttPassword: optionalString,
  mqttPrefix: z
    .string()
    .min(1)
    .refine((s) => !/[+#]/.test(s), 'must not contain MQTT wildcards (+ or #)')
    .default('argos'),
  mqttCa: optionalString,
  mqttCert: optionalString,
  mqttKey: optionalString,
  mqttStatsInterval: duration.default(60_000),
  ntfyServer: httpUrl.default('https://ntfy.sh'),
  ntfyTopic: optionalString.refine((s) => s === undefined || /^[-_A-Za-z0-9]{1,64}$/.test(s), 'must be 1 to 64 letters, digits, - or _ (what ntfy accepts as a topic)'),
  ntfyToken: optionalString,
  httpAddress: listenAddress.default('127.0.0.1:9464'),
  logLevel: logLevel.default('info'),
  drainTimeout: duration.default(10_000),
  learnDuration: duration.default(3_600_000),
  learning: z.enum(['auto', 'off'], { error: 'must be auto or off' }).default('auto'),
  learnPeriod: duration.default(86_400_000),
  retrainInterval: duration.default(7 * 86_400_000),
  stateDir: optionalString,
  baselineSize: int(10_000).default(2_000_000),
  targetFpr: z.coerce.number({ error: 'must be a number' }).gt(0, 'must be above 0').lt(1, 'must be below 1').default(0.01),
  systemdNotify: boolean.default(true),
  hubHttp: listenAddress.refine((s) => s !== '', 'must be HOST:PORT (the hub always serves its API)').default('127.0.0.1:8480'),
  hubDatabaseUrl: z
    .string()
    .min(1)
    .refine((s) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^postgres(ql)?:\/\/[^\s]+$/i.test(s), 'must be a postgres:// URL or an SQLite file path')
    .default('/var/lib/argos/hub.db'),
  hubToken: optionalString,
  hubReadToken: optionalString,
  hubGroup: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1 to 64 letters, digits, _ . or -')
    .default('argos-hub'),
  hubInstance: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1 to 64 letters, digits, _ . or -')
    .optional(),
  hubConnections: int(1, 256).default(16),
  hubSessionExpiry: duration.default(86_400_000),
  hubRetentionAge: duration.default(90 * 86_400_000),
};

export const configSchema = z
  .object(shape)
  .superRefine((c, ctx) => {
    if (c.window !== undefined && c.delta !== undefined && c.delta > c.window) {
      ctx.addIssue({ code: 'custom', path: ['delta'], message: `must not exceed the window size (${c.window})` });
    }
    if (c.source === 'replay' && c.replayFile === undefined) {
      ctx.addIssue({ code: 'custom', path: ['replayFile'], message: 'is required when ARGOS_SOURCE=replay' });
    }
    if ((c.mqttCert === undefined) !== (c.mqttKey === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['mqttKey'], message: 'ARGOS_MQTT_CERT and ARGOS_MQTT_KEY go together: set both or neither' });
    }
    if (c.hubToken !== undefined && c.hubToken.length < 16) {
      ctx.addIssue({ code: 'custom', path: ['hubToken'], message: 'must be at least 16 characters (e.g. openssl rand -hex 32)' });
    }
    if (c.hubReadToken !== undefined && c.hubReadToken.length < 16) {
      ctx.addIssue({ code: 'custom', path: ['hubReadToken'], message: 'must be at least 16 characters (e.g. openssl rand -hex 32)' });
    }
    if (c.hubToken !== undefined && c.hubToken === c.hubReadToken) {
      ctx.addIssue({ code: 'custom', path: ['hubReadToken'], message: 'must differ from ARGOS_HUB_TOKEN' });
    }
    if (c.mqttPassword !== undefined && c.mqttUsername === undefined) {
      ctx.addIssue({ code: 'custom', path: ['mqttUsername'], message: 'is required when ARGOS_MQTT_PASSWORD is set' });
    }
  });

type ConfigShape = typeof shape;

/** What a setting's number means, for printing it back in a form `loadConfig` reads as the same. */
export type SettingUnit = 'duration' | 'size';

/** The unit of every duration and size setting, read off the schema. */
export function unitOf(key: keyof ConfigShape): SettingUnit | undefined {
  const schema: z.ZodType = shape[key];
  const inner = schema instanceof z.ZodDefault || schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
  if (inner === duration) return 'duration';
  if (inner === bytes) return 'size';
  return undefined;
}
export type Config = z.infer<typeof configSchema>;

/** The documentation table: every setting, its variables and its default. */
export const SETTINGS: readonly Setting[] = [
  { key: 'source', env: ['ARGOS_SOURCE'], sample: 'managed', doc: 'Where events come from: managed (start Tetragon), export (tail its JSON export file), tetra (tetra getevents), stdin, replay (a recorded file), bpftrace (hosts without Tetragon).' },
  { key: 'tetragonBin', env: ['ARGOS_TETRAGON_BIN'], sample: 'tetragon', doc: 'Tetragon executable for the managed source (name on PATH or a path).' },
  { key: 'tetragonPolicy', env: ['ARGOS_TETRAGON_POLICY'], sample: '', doc: 'Tracing policy for the managed source; default: the raw_syscalls policy shipped in config/tetragon/.' },
  { key: 'tetragonExportFile', env: ['ARGOS_TETRAGON_EXPORT_FILE'], sample: '/var/run/argos/tetragon.log', doc: 'Export file the managed Tetragon writes and Argos reads.' },
  { key: 'tetragonArgs', env: ['ARGOS_TETRAGON_ARGS'], sample: '', doc: 'Extra arguments for the managed Tetragon, space-separated.' },
  { key: 'tetragonReadyTimeout', env: ['ARGOS_TETRAGON_READY_TIMEOUT'], sample: '30s', doc: 'How long the managed Tetragon may take to become ready.' },
  { key: 'exportFile', env: ['ARGOS_EXPORT_FILE'], sample: '/var/log/tetragon/tetragon.log', doc: 'Tetragon JSON export file for the export source (rotation and truncation are followed).' },
  { key: 'tetraBin', env: ['ARGOS_TETRA_BIN'], sample: 'tetra', doc: 'tetra CLI for the tetra source.' },
  { key: 'tetraServer', env: ['ARGOS_TETRA_SERVER'], sample: '', doc: 'gRPC address for tetra (--server-address); default: tetra\'s own.' },
  { key: 'bpftraceBin', env: ['ARGOS_BPFTRACE_BIN'], sample: 'bpftrace', doc: 'bpftrace executable for the bpftrace source.' },
  { key: 'bpftraceRootPid', env: ['ARGOS_BPFTRACE_ROOT_PID'], sample: '', doc: 'bpftrace source: watch only the processes this pid starts after the source started (and theirs), e.g. one service\'s tree; default: every process.' },
  { key: 'replayFile', env: ['ARGOS_REPLAY_FILE'], sample: '', doc: 'Recorded Tetragon JSON-lines file for the replay source (- for stdin).' },
  { key: 'replaySpeed', env: ['ARGOS_REPLAY_SPEED'], sample: 'max', doc: 'Replay pace: max, recorded, or a factor of the recorded pace such as 10.' },
  { key: 'modelDir', env: ['ARGOS_MODEL_DIR'], sample: '', doc: 'Model folder (model.onnx, syscalls.csv, model.json); default: the bundled models/default.' },
  { key: 'modelPath', env: ['TRAINED_MODEL_PATH'], sample: '', doc: 'ONNX model file; overrides the one in the model folder.' },
  { key: 'mappingPath', env: ['SYSCALL_MAPPING_PATH'], sample: '', doc: 'Syscall-to-token mapping CSV (name,id per line); overrides the one in the model folder.' },
  { key: 'window', env: ['SLIDING_WINDOW_SIZE', 'ARGOS_WINDOW'], sample: '', doc: 'Syscalls per window; default: the model card\'s window, else 1024.' },
  { key: 'delta', env: ['SLIDING_WINDOW_DELTA', 'ARGOS_DELTA'], sample: '', doc: 'New syscalls between two windows of a process; default: the model card\'s delta, else window/4.' },
  { key: 'minWindow', env: ['ARGOS_MIN_WINDOW'], sample: '', doc: 'Shortest partial window scored at process exit; default: the model card\'s, else 16.' },
  { key: 'maxProcesses', env: ['ARGOS_MAX_PROCESSES'], sample: '20000', doc: 'Processes tracked at once; the least recently seen is evicted beyond it.' },
  { key: 'idleFlush', env: ['ARGOS_IDLE_FLUSH'], sample: '5s', doc: 'A process quiet this long has its calls since its last window scored without waiting for more (0 = only at exit).' },
  { key: 'workers', env: ['MAX_CLASSIFICATION_WORKERS', 'ARGOS_WORKERS'], sample: '1', doc: 'Threads ONNX Runtime may use for classification.' },
  { key: 'classifierMode', env: ['ARGOS_CLASSIFIER_MODE'], sample: '', doc: 'worker (the model runs in worker threads, the event loop never waits on it) or inline (on the main thread: no second JS runtime, less memory); default: worker under Node, inline in the compiled binary.' },
  { key: 'batchSize', env: ['ARGOS_BATCH_SIZE'], sample: '64', doc: 'Windows classified in one model call at most.' },
  { key: 'queueMax', env: ['ARGOS_QUEUE_MAX'], sample: '4096', doc: 'Windows waiting for the classifier before new ones are shed (and counted).' },
  { key: 'threshold', env: ['ARGOS_THRESHOLD'], sample: '', doc: 'Alert when a window scores at or above this; default: the model card\'s threshold.' },
  { key: 'throttleWindow', env: ['ARGOS_THROTTLE_WINDOW'], sample: '60s', doc: 'Alerts from one binary (and pod) within this time are folded into one, with a repeat count.' },
  { key: 'throttleMax', env: ['ARGOS_THROTTLE_MAX'], sample: '100', doc: 'Repeats folded into one alert at most before a new alert is raised.' },
  { key: 'newProgramAllow', env: ['ARGOS_NEW_PROGRAM_ALLOW'], sample: '', doc: 'Comma-separated globs of binaries (or program keys) never reported as new programs, e.g. /usr/lib/jvm/**,/opt/app/bin/*, or registry.example.com/team/app:/** for every binary of an image.' },
  { key: 'nodeName', env: ['MACHINE_NAME', 'ARGOS_NODE_NAME'], sample: '', doc: 'Name of this node in alerts and MQTT topics; default: the hostname.' },
  { key: 'dbPath', env: ['ARGOS_DB_PATH'], sample: '/var/lib/argos/argos.db', doc: 'SQLite database (created with mode 0600).' },
  { key: 'retentionAge', env: ['ARGOS_RETENTION_AGE'], sample: '30d', doc: 'Delete stored alerts and processes older than this.' },
  { key: 'retentionSize', env: ['ARGOS_RETENTION_SIZE'], sample: '256M', doc: 'Keep the database under about this size by deleting the oldest rows.' },
  { key: 'mqttUrl', env: ['ARGOS_MQTT_URL'], sample: '', doc: 'MQTT broker (mqtt://host:1883 or mqtts://host:8883); unset = no MQTT.' },
  { key: 'mqttUsername', env: ['ARGOS_MQTT_USERNAME'], sample: '', doc: 'MQTT user name.' },
  { key: 'mqttPassword', secret: true, env: ['ARGOS_MQTT_PASSWORD'], sample: '', doc: 'MQTT password (never logged).' },
  { key: 'mqttPrefix', env: ['ARGOS_MQTT_PREFIX'], sample: 'argos', doc: 'Topic prefix: <prefix>/<node>/status|alert|stats.' },
  { key: 'mqttCa', env: ['ARGOS_MQTT_CA'], sample: '', doc: 'PEM file of the CA that signed the broker\'s certificate.' },
  { key: 'mqttCert', env: ['ARGOS_MQTT_CERT'], sample: '', doc: 'PEM client certificate for mutual TLS.' },
  { key: 'mqttKey', env: ['ARGOS_MQTT_KEY'], sample: '', doc: 'PEM private key of the client certificate.' },
  { key: 'mqttStatsInterval', env: ['ARGOS_MQTT_STATS_INTERVAL'], sample: '60s', doc: 'How often counters are published to <prefix>/<node>/stats.' },
  { key: 'ntfyServer', env: ['ARGOS_NTFY_SERVER'], sample: 'https://ntfy.sh', doc: 'Ntfy server.' },
  { key: 'ntfyTopic', env: ['ARGOS_NTFY_TOPIC'], sample: '', doc: 'Ntfy topic; unset = no push notifications.' },
  { key: 'ntfyToken', secret: true, env: ['ARGOS_NTFY_TOKEN'], sample: '', doc: 'Ntfy access token (sent as Bearer; never logged).' },
  { key: 'httpAddress', env: ['ARGOS_HTTP_ADDRESS'], sample: '127.0.0.1:9464', emptyIsValue: true, doc: 'Address of /healthz and /metrics; empty = off.' },
  { key: 'logLevel', env: ['ARGOS_LOG_LEVEL'], sample: 'info', doc: 'Log level: fatal, error, warn, info, debug, trace or silent.' },
  { key: 'drainTimeout', env: ['ARGOS_DRAIN_TIMEOUT'], sample: '10s', doc: 'How long a stop or a replay waits for queued windows and undelivered alerts.' },
  { key: 'learnDuration', env: ['ARGOS_LEARN_DURATION'], sample: '1h', doc: 'How long `argos learn` records normal behaviour.' },
  { key: 'learning', env: ['ARGOS_LEARNING'], sample: 'auto', doc: 'auto: without ARGOS_MODEL_DIR, argos run learns this device (learning, training, detecting, retraining); off: the configured or generic model only.' },
  { key: 'learnPeriod', env: ['ARGOS_LEARN_PERIOD'], sample: '24h', doc: 'How long the daemon learns a device (running time) before its first model, at least; see the README, "the first day of a device".' },
  { key: 'retrainInterval', env: ['ARGOS_RETRAIN_INTERVAL'], sample: '7d', doc: 'Running time between two trainings of the device model from the rolling baseline.' },
  { key: 'stateDir', env: ['ARGOS_STATE_DIR'], sample: '', doc: 'Folder of the device\'s model versions; default: models/ beside the database.' },
  { key: 'baselineSize', env: ['ARGOS_BASELINE_SIZE'], sample: '2000000', doc: 'Calls the rolling baseline keeps at most (the oldest of the largest programs go first).' },
  { key: 'targetFpr', env: ['ARGOS_TARGET_FPR'], sample: '0.01', doc: 'Share of held-out normal processes a device model may flag; sets each program\'s threshold.' },
  { key: 'systemdNotify', env: ['ARGOS_SYSTEMD_NOTIFY'], sample: 'true', doc: 'Send READY/WATCHDOG/STOPPING to systemd when NOTIFY_SOCKET is set.' },
  { key: 'hubHttp', env: ['ARGOS_HUB_HTTP'], sample: '127.0.0.1:8480', doc: '`argos hub`: address of the REST API, the dashboard (/) and /metrics.' },
  { key: 'hubDatabaseUrl', secret: true, env: ['ARGOS_HUB_DATABASE_URL'], sample: '/var/lib/argos/hub.db', doc: '`argos hub`: postgres://user:password@host:5432/db for a fleet (several hubs), or an SQLite file for one small hub.' },
  { key: 'hubToken', secret: true, env: ['ARGOS_HUB_TOKEN'], sample: '', doc: '`argos hub`: bearer token for the API and the dashboard, read and write (at least 16 characters; required; never logged).' },
  { key: 'hubReadToken', secret: true, env: ['ARGOS_HUB_READ_TOKEN'], sample: '', doc: '`argos hub`: a second bearer token that may only read (no commands); unset = none.' },
  { key: 'hubGroup', env: ['ARGOS_HUB_GROUP'], sample: 'argos-hub', doc: '`argos hub`: MQTT shared-subscription group ($share/<group>/...); hubs of one fleet use the same group.' },
  { key: 'hubInstance', env: ['ARGOS_HUB_INSTANCE'], sample: '', doc: '`argos hub`: this hub\'s name in its MQTT client ids, stable across restarts so its persistent sessions resume; default: the hostname.' },
  { key: 'hubConnections', env: ['ARGOS_HUB_CONNECTIONS'], sample: '16', doc: '`argos hub`: MQTT connections in the shared group; each has one message in flight until it is stored, so more connections mean larger write batches.' },
  { key: 'hubSessionExpiry', env: ['ARGOS_HUB_SESSION_EXPIRY'], sample: '1d', doc: '`argos hub`: how long the broker keeps a stopped hub\'s session and its queued messages.' },
  { key: 'hubRetentionAge', env: ['ARGOS_HUB_RETENTION_AGE'], sample: '90d', doc: '`argos hub`: delete alerts and command results received longer ago than this.' },
];
