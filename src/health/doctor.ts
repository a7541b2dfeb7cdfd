// `argos doctor`: checks what the daemon needs on this host (Tetragon and its privileges,
// tracefs and BPF, the model and ONNX Runtime, the database, the broker and ntfy) and says
// what to fix. Each check is bounded in time and never throws.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Config } from '../config/load.js';
import { tracingPrivilegeProblem } from '../sources/privileges.js';
import { assetExists } from '../runtime/assets.js';
import { prepareOrt } from '../runtime/ort.js';
import { isBun, isCompiled } from '../runtime/platform.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface DoctorCheck {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a warn or fail. */
  fix?: string;
}

export interface DoctorDeps {
  env: Readonly<Record<string, string | undefined>>;
  /** `/proc/self/status`, for capabilities. */
  readStatus?: () => Promise<string>;
  /** `/proc/mounts`. */
  readMounts?: () => Promise<string>;
  /** Runs `bin args` and resolves with its first output line, or rejects. */
  version?: (bin: string, args: readonly string[], timeoutMs: number) => Promise<string>;
  /** Opens the model and scores one window; resolves with a description. */
  model?: (config: Config) => Promise<string>;
  /** Opens (creating, migrating) the database; resolves with a description. */
  database?: (config: Config) => Promise<string>;
  timeoutMs?: number;
}

const TETRAGON_INSTALL = 'install Tetragon (https://tetragon.io/docs/installation/package/) or set ARGOS_TETRAGON_BIN to its path';

/** Finds an executable on PATH (or checks a path). */
export function whichSync(bin: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const candidates = bin.includes('/') ? [bin] : (env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter).filter(Boolean).map((d) => join(d, bin));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      if (statSync(c).isFile()) return c;
    } catch {
      // not here
    }
  }
  return undefined;
}

const runVersion = (bin: string, args: readonly string[], timeoutMs: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const first = out.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
      if (code === 0) resolve(first);
      else reject(new Error(signal ? `did not answer within ${timeoutMs} ms` : `exited with ${code}: ${first}`));
    });
  });

/** Checks an executable that a source needs; `needed` = fail (else warn) when missing. */
async function binaryCheck(name: string, bin: string, args: string[], needed: boolean, fix: string, deps: Required<Pick<DoctorDeps, 'env' | 'version' | 'timeoutMs'>>): Promise<DoctorCheck> {
  const path = whichSync(bin, deps.env);
  if (!path) return { name, status: needed ? 'fail' : 'warn', detail: `${bin} not found${bin.includes('/') ? '' : ' on PATH'}`, fix };
  try {
    const v = await deps.version(path, args, deps.timeoutMs);
    return { name, status: 'ok', detail: `${path}${v ? ` (${v})` : ''}` };
  } catch (e) {
    return { name, status: needed ? 'fail' : 'warn', detail: `${path} does not run: ${(e as Error).message}`, fix };
  }
}

function mountOf(mounts: string, type: string): string | undefined {
  for (const line of mounts.split('\n')) {
    const [, where, fstype] = line.split(' ');
    if (fstype === type) return where;
  }
  return undefined;
}

function describeAge(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
}

/** TCP connect with a deadline. */
export function tcpReachable(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const done = (err?: Error) => {
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`no answer within ${timeoutMs} ms`)));
    socket.once('connect', () => done());
    socket.once('error', (e: NodeJS.ErrnoException) => done(new Error(e.code ?? e.message)));
  });
}

/** Host and port of an MQTT URL, with the scheme's default port. */
export function brokerAddress(url: string): { host: string; port: number } {
  const u = new URL(url);
  const defaults: Record<string, number> = { 'mqtt:': 1883, 'tcp:': 1883, 'mqtts:': 8883, 'ssl:': 8883, 'ws:': 80, 'wss:': 443 };
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: u.port ? Number(u.port) : (defaults[u.protocol] ?? 1883) };
}

export async function runDoctor(config: Config, deps: DoctorDeps): Promise<DoctorCheck[]> {
  const d = {
    env: deps.env,
    version: deps.version ?? runVersion,
    timeoutMs: deps.timeoutMs ?? 5000,
  };
  const readStatus = deps.readStatus ?? (() => readFile('/proc/self/status', 'utf8'));
  const readMounts = deps.readMounts ?? (() => readFile('/proc/mounts', 'utf8'));
  const checks: DoctorCheck[] = [];
  const src = config.source;
  const tracing = src === 'managed' || src === 'bpftrace';

  checks.push({
    name: 'runtime',
    status: 'ok',
    detail: `${isBun() ? `Bun ${process.versions.bun}${isCompiled() ? ' (single binary)' : ''}` : `Node ${process.versions.node}`} on linux-${process.arch}; ORT telemetry ${prepareOrt().telemetry}`,
  });

  // Source-specific needs.
  if (src === 'managed') {
    checks.push(await binaryCheck('tetragon', config.tetragonBin, ['version'], true, TETRAGON_INSTALL, d));
    const policy = config.tetragonPolicy;
    if (policy !== undefined) {
      checks.push(existsSync(policy) ? { name: 'tetragon policy', status: 'ok', detail: policy } : { name: 'tetragon policy', status: 'fail', detail: `${policy} does not exist`, fix: 'set ARGOS_TETRAGON_POLICY to a TracingPolicy file, or unset it for the shipped one' });
    } else {
      const shipped = 'config/tetragon/raw-syscalls.yaml';
      checks.push(assetExists(shipped) ? { name: 'tetragon policy', status: 'ok', detail: `shipped ${shipped}` } : { name: 'tetragon policy', status: 'fail', detail: `${shipped} is missing from this installation`, fix: 'reinstall Argos, or set ARGOS_TETRAGON_POLICY' });
    }
  } else if (src === 'export') {
    checks.push(exportFileCheck(config.exportFile));
  } else if (src === 'tetra') {
    checks.push(await binaryCheck('tetra', config.tetraBin, ['version'], true, 'install the tetra CLI (it comes with Tetragon) or set ARGOS_TETRA_BIN', d));
  } else if (src === 'bpftrace') {
    checks.push(await binaryCheck('bpftrace', config.bpftraceBin, ['--version'], true, 'apt-get install bpftrace, or set ARGOS_BPFTRACE_BIN', d));
  } else if (src === 'replay') {
    const f = config.replayFile ?? '';
    checks.push(f === '-' || existsSync(f) ? { name: 'replay file', status: 'ok', detail: f } : { name: 'replay file', status: 'fail', detail: `${f} does not exist`, fix: 'set ARGOS_REPLAY_FILE to a recorded Tetragon JSON-lines file' });
  } else if (src === 'stdin') {
    checks.push({ name: 'source', status: 'ok', detail: 'events come on standard input' });
  } else {
    const never: never = src;
    checks.push({ name: 'source', status: 'fail', detail: `unknown source ${String(never)}` });
  }

  // Privileges and kernel interfaces: needed to trace (managed, bpftrace), informative otherwise.
  const privilege = await tracingPrivilegeProblem(src === 'bpftrace' ? 'bpftrace' : 'Tetragon', readStatus);
  checks.push(
    privilege === undefined
      ? { name: 'privileges', status: 'ok', detail: 'may load eBPF programs' }
      : tracing
        ? splitProblem('privileges', privilege)
        : { name: 'privileges', status: 'skip', detail: `not needed for ARGOS_SOURCE=${src}` },
  );
  let mounts = '';
  try {
    mounts = await readMounts();
  } catch {
    // reported below as not mounted
  }
  const tracefs = mountOf(mounts, 'tracefs');
  const tracefsOk = tracefs !== undefined && existsSync(join(tracefs, 'events', 'raw_syscalls'));
  checks.push(
    tracefsOk
      ? { name: 'tracefs', status: 'ok', detail: `${tracefs} (raw_syscalls tracepoints present)` }
      : {
          name: 'tracefs',
          status: tracing ? (src === 'bpftrace' ? 'fail' : 'warn') : 'skip',
          detail: tracefs ? `${tracefs} has no raw_syscalls tracepoints` : 'not mounted',
          fix: 'mount -t tracefs nodev /sys/kernel/tracing (Tetragon mounts it itself when it may)',
        },
  );
  const bpffs = mountOf(mounts, 'bpf');
  checks.push(
    bpffs
      ? { name: 'bpffs', status: 'ok', detail: bpffs }
      : { name: 'bpffs', status: tracing ? 'warn' : 'skip', detail: 'not mounted', fix: 'mount -t bpf bpf /sys/fs/bpf (Tetragon mounts it itself when it may)' },
  );
  const btf = existsSync('/sys/kernel/btf/vmlinux');
  checks.push(
    btf
      ? { name: 'kernel BTF', status: 'ok', detail: '/sys/kernel/btf/vmlinux' }
      : { name: 'kernel BTF', status: src === 'managed' ? 'warn' : 'skip', detail: 'missing', fix: 'Tetragon needs a kernel with CONFIG_DEBUG_INFO_BTF=y, or a BTF file (its --btf flag)' },
  );

  checks.push(await guarded('model', () => (deps.model ?? defaultModelCheck)(config), 'set ARGOS_MODEL_DIR to a model folder written by "argos train", or reinstall Argos for the bundled one', d.timeoutMs * 6));
  checks.push(await guarded('database', () => (deps.database ?? defaultDatabaseCheck)(config), `make ${config.dbPath}'s folder writable by this user, or set ARGOS_DB_PATH`, d.timeoutMs * 2));

  if (config.mqttUrl) {
    const { host, port } = brokerAddress(config.mqttUrl);
    checks.push(await guarded('mqtt broker', async () => (await tcpReachable(host, port, d.timeoutMs), `${host}:${port} accepts connections`), `start the broker or fix ARGOS_MQTT_URL (${config.mqttUrl}); alerts wait in the database meanwhile`, d.timeoutMs + 1000));
  } else {
    checks.push({ name: 'mqtt broker', status: 'skip', detail: 'ARGOS_MQTT_URL is not set' });
  }
  if (config.ntfyTopic) {
    checks.push(await guarded('ntfy', () => ntfyCheck(config.ntfyServer, d.timeoutMs), `check ARGOS_NTFY_SERVER (${config.ntfyServer}) and the network; notifications wait in the database meanwhile`, d.timeoutMs + 1000));
  } else {
    checks.push({ name: 'ntfy', status: 'skip', detail: 'ARGOS_NTFY_TOPIC is not set' });
  }
  if (config.httpAddress) checks.push(await healthEndpointCheck(config.httpAddress, d.timeoutMs));
  return checks;
}

/** "what is wrong (details): what to do" → a failed check with its fix. */
function splitProblem(name: string, sentence: string): DoctorCheck {
  const at = sentence.indexOf('): ');
  if (at < 0) return { name, status: 'fail', detail: sentence };
  return { name, status: 'fail', detail: sentence.slice(0, at + 1), fix: sentence.slice(at + 3) };
}

function exportFileCheck(path: string): DoctorCheck {
  const name = 'tetragon export file';
  try {
    const s = statSync(path);
    accessSync(path, constants.R_OK);
    const age = Date.now() - s.mtimeMs;
    if (age > 10 * 60_000) {
      return { name, status: 'warn', detail: `${path} last written ${describeAge(age)} ago`, fix: 'is Tetragon running with the raw_syscalls policy (config/tetragon/raw-syscalls.yaml) and --export-filename set to this file?' };
    }
    return { name, status: 'ok', detail: `${path} (${s.size} bytes, written ${describeAge(age)} ago)` };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      name,
      status: 'fail',
      detail: `${path}: ${code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'not readable by this user' : (code ?? String(e))}`,
      fix: 'start Tetragon with --export-filename, or set ARGOS_EXPORT_FILE to the file it writes',
    };
  }
}

async function ntfyCheck(server: string, timeoutMs: number): Promise<string> {
  const url = `${server.replace(/\/+$/, '')}/v1/health`;
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  await res.body?.cancel();
  if (res.status >= 500) throw new Error(`${url} answered ${res.status}`);
  return `${server} answers (HTTP ${res.status})`;
}

async function healthEndpointCheck(address: string, timeoutMs: number): Promise<DoctorCheck> {
  const name = 'health endpoint';
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address);
  if (!m) return { name, status: 'fail', detail: `${address} is not HOST:PORT`, fix: 'set ARGOS_HTTP_ADDRESS to e.g. 127.0.0.1:9464, or empty' };
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  try {
    const res = await fetch(`http://${where}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json().catch(() => undefined)) as { status?: string } | undefined;
    if (body?.status) return { name, status: body.status === 'ok' ? 'ok' : 'warn', detail: `a running Argos answers on ${where}: ${body.status}`, fix: body.status === 'ok' ? undefined : `curl http://${where}/healthz shows which part` };
    return { name, status: 'warn', detail: `something else answers on ${where} (HTTP ${res.status})`, fix: 'set ARGOS_HTTP_ADDRESS to a free port' };
  } catch {
    return { name, status: 'ok', detail: `${where} is free for /healthz and /metrics (no daemon running)` };
  }
}

async function guarded(name: string, fn: () => Promise<string>, fix: string, timeoutMs: number): Promise<DoctorCheck> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const detail = await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no result within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      }),
    ]);
    return { name, status: 'ok', detail };
  } catch (e) {
    return { name, status: 'fail', detail: (e as Error).message, fix };
  } finally {
    clearTimeout(timer);
  }
}

/** Loads the configured model and scores one empty window with ONNX Runtime. */
async function defaultModelCheck(config: Config): Promise<string> {
  const { loadModel } = await import('../detector/model-folder.js');
  const { OnnxClassifier } = await import('../detector/onnx-classifier.js');
  const model = await loadModel({ dir: config.modelDir, modelPath: config.modelPath, mappingPath: config.mappingPath });
  const classifier = await OnnxClassifier.open(model, { mode: 'inline', workers: 1 });
  try {
    const [score] = await classifier.score([new Int32Array(model.card.window)]);
    if (!Number.isFinite(score)) throw new Error(`${model.files.model}: the model gave a non-finite score (${score})`);
  } finally {
    await classifier.close();
  }
  const where = model.origin === 'default' ? 'bundled default' : model.files.model;
  return `${model.card.name} (${where}): window ${model.card.window}, threshold ${Number(model.card.threshold.toPrecision(4))}, vocabulary ${model.card.vocabulary}; ONNX Runtime scores it`;
}

/** Opens the database the daemon would use (creating and migrating it) and closes it again. */
async function defaultDatabaseCheck(config: Config): Promise<string> {
  const { SqliteStore } = await import('../store/store.js');
  const path = isAbsolute(config.dbPath) ? config.dbPath : join(process.cwd(), config.dbPath);
  const store = new SqliteStore({ path });
  await store.start();
  try {
    const pending = store.outboxDepth();
    return `${path} is writable (${pending} message${pending === 1 ? '' : 's'} waiting for delivery)`;
  } finally {
    await store.stop();
  }
}

/** Exit status of `argos doctor`: 1 when something needed is broken. */
export function doctorExitCode(checks: readonly DoctorCheck[]): number {
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}

/** The human-readable report. */
export function formatDoctor(checks: readonly DoctorCheck[]): string {
  const mark: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: '-   ' };
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.map((c) => {
    const head = `${mark[c.status]}  ${c.name.padEnd(width)}  ${c.detail}`;
    return c.fix && (c.status === 'fail' || c.status === 'warn') ? `${head}\n      ${' '.repeat(width)}  fix: ${c.fix}` : head;
  });
  const fails = checks.filter((c) => c.status === 'fail').length;
  const warns = checks.filter((c) => c.status === 'warn').length;
  lines.push('', fails > 0 ? `${fails} problem${fails === 1 ? '' : 's'} to fix before Argos can run${warns ? `, ${warns} warning${warns === 1 ? '' : 's'}` : ''}.` : warns > 0 ? `Argos can run; ${warns} warning${warns === 1 ? '' : 's'}.` : 'All good.');
  return `${lines.join('\n')}\n`;
}

