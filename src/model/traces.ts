// Reading syscall traces for training and evaluation.
//
// A PATH is one of:
// - a folder of trace files, read recursively (the ADFA-LD layout): one trace per file,
//   whitespace-separated syscall numbers (need an ABI) or syscall names;
// - a Tetragon JSON-lines recording (`.json`, `.jsonl`, `.log`, optionally `.gz`): the
//   syscalls of each exec_id form one trace;
// - a single trace file.
// A trace's attack type is its first-level folder's name below PATH without a trailing `_N`
// (ADFA-LD: `Attack_Data_Master/Adduser_3/UAD-Adduser-3-1.txt` is type `Adduser`).
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ABIS, type Abi } from '../core/types.js';
import { normaliseName, syscallName } from '../syscalls/names.js';

/** A user's data problem: the message names the file and what to do. */
export class DataError extends Error {
  override name = 'DataError';
}

export interface Trace {
  /** File path, or `file#exec_id` for a process of a recording. */
  source: string;
  /** First-level folder name without `_N`; undefined for files directly below PATH. */
  type?: string;
  /** Normalised syscall names; null for a number the ABI's table does not have. */
  calls: (string | null)[];
}

/** Traces ready for training, with how the card names them. */
export interface TrainingData {
  /** How the card names the data. */
  label: string;
  traces: Trace[];
  sha256: string;
  /** `names` for data read as syscall names. */
  abi: string;
}

export interface TraceSet {
  root: string;
  traces: Trace[];
  /** Files read (trace files and recordings), sorted; for the data hash. */
  files: string[];
}

export interface ReadOptions {
  /** ABI of numeric traces (and of Tetragon `long_arg` syscalls). */
  abi?: Abi;
  /** Called after each file, for progress. */
  onFile?: (done: number, total: number) => void;
}

const ABI_ALIASES: Record<string, Abi> = { x86_64: 'x64', amd64: 'x64', x64: 'x64', i386: 'i386', x86: 'i386', arm64: 'arm64', aarch64: 'arm64', arm32: 'arm32', arm: 'arm32' };

/** Parses an `--abi` value (accepts x86_64/amd64, aarch64, arm as aliases). */
export function parseAbi(value: string): Abi {
  const abi = ABI_ALIASES[value.toLowerCase()];
  if (abi === undefined) throw new DataError(`unknown ABI "${value}"; use one of ${ABIS.join(', ')} (x86_64, aarch64 are accepted too)`);
  return abi;
}

const RECORDING = /\.(jsonl?|log)(\.gz)?$/i;
const NAME = /^[a-z_][a-z0-9_]*$/;
const NUMBER = /^\d+$/;

/** Attack type of a file below `root`: its first-level folder's name without a trailing `_N`. */
export function traceType(root: string, file: string): string | undefined {
  const parts = relative(root, file).split(sep);
  if (parts.length < 2) return undefined;
  return parts[0].replace(/_\d+$/, '');
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  await walk(dir);
  return out.sort();
}

function ioProblem(path: string, e: unknown): DataError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? String(e)})`;
  return new DataError(`${path} ${why}`);
}

/** Parses one trace file's text: all numbers (with an ABI) or all names. */
export function parseTraceText(text: string, file: string, abi: Abi | undefined): (string | null)[] {
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0) return [];
  if (NUMBER.test(words[0])) {
    if (abi === undefined) throw new DataError(`${file} holds syscall numbers; say which ABI they are with --abi (i386 for ADFA-LD, x86_64, arm64, arm32)`);
    return words.map((w, i) => {
      if (!NUMBER.test(w)) throw new DataError(`${file}: word ${i + 1} ("${w.slice(0, 30)}") is not a syscall number; a trace file holds only numbers or only names`);
      const name = syscallName(abi, Number(w));
      return name === undefined ? null : normaliseName(name);
    });
  }
  return words.map((w, i) => {
    if (!NAME.test(w)) throw new DataError(`${file}: word ${i + 1} ("${w.slice(0, 30)}") is neither a syscall number nor a syscall name; a trace file holds whitespace-separated numbers or names`);
    return normaliseName(w);
  });
}

interface TetragonSyscallArg {
  syscall_id?: { id?: number; abi?: string };
  long_arg?: string;
  size_arg?: string;
}

/** Splits a Tetragon JSON-lines recording into one trace per exec_id (in order of first syscall). */
export function parseRecording(text: string, file: string, abi: Abi | undefined): Trace[] {
  const byExec = new Map<string, (string | null)[]>();
  const lines = text.split('\n');
  let events = 0;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === '') continue;
    let ev: unknown;
    try {
      ev = JSON.parse(line);
    } catch {
      throw new DataError(`${file}:${n + 1} is not JSON; a recording holds one Tetragon JSON event per line`);
    }
    if (typeof ev !== 'object' || ev === null) throw new DataError(`${file}:${n + 1} is not a Tetragon event object`);
    events++;
    const tp = (ev as { process_tracepoint?: { subsys?: string; event?: string; process?: { exec_id?: string; pid?: number }; args?: TetragonSyscallArg[] } }).process_tracepoint;
    if (tp === undefined || tp.subsys !== 'raw_syscalls' || tp.event !== 'sys_enter') continue;
    const arg = tp.args?.[0];
    let name: string | undefined;
    if (arg?.syscall_id !== undefined) {
      const a = ABIS.find((x) => x === arg.syscall_id?.abi) ?? abi;
      if (a === undefined) throw new DataError(`${file}:${n + 1}: unknown syscall ABI "${String(arg.syscall_id.abi)}"`);
      name = syscallName(a, arg.syscall_id.id ?? 0);
    } else {
      const raw = arg?.long_arg ?? arg?.size_arg;
      if (raw === undefined) throw new DataError(`${file}:${n + 1}: a sys_enter event without a syscall argument`);
      if (abi === undefined) throw new DataError(`${file} reports syscalls as plain numbers; say which ABI the node runs with --abi`);
      name = syscallName(abi, Number(raw));
    }
    const key = tp.process?.exec_id ?? `pid:${tp.process?.pid ?? 0}`;
    let calls = byExec.get(key);
    if (calls === undefined) byExec.set(key, (calls = []));
    calls.push(name === undefined ? null : normaliseName(name));
  }
  if (events === 0) throw new DataError(`${file} holds no events`);
  return [...byExec].map(([key, calls]) => ({ source: `${file}#${key}`, calls }));
}

async function readText(file: string): Promise<string> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    throw ioProblem(file, e);
  }
  if (file.endsWith('.gz')) {
    try {
      buf = gunzipSync(buf);
    } catch {
      throw new DataError(`${file} is not a valid gzip file`);
    }
  }
  if (buf.includes(0)) throw new DataError(`${file} is a binary file, not a trace (text of syscall numbers or names) or a JSON-lines recording`);
  return buf.toString('utf8');
}

async function readOne(root: string, file: string, abi: Abi | undefined): Promise<Trace[]> {
  const text = await readText(file);
  const type = traceType(root, file);
  if (RECORDING.test(file) || text.trimStart().startsWith('{')) {
    return parseRecording(text, file, abi).map((t) => (type === undefined ? t : { ...t, type }));
  }
  const calls = parseTraceText(text, file, abi);
  return [{ source: file, calls, ...(type === undefined ? {} : { type }) }];
}

/**
 * Reads every trace below `path`. Throws DataError when the path is missing or unreadable,
 * a file is not in a known format, or there are no syscalls at all.
 */
export async function readTraces(path: string, opts: ReadOptions = {}): Promise<TraceSet> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (e) {
    throw ioProblem(path, e);
  }
  let files: string[];
  try {
    files = isDir ? await listFiles(path) : [path];
  } catch (e) {
    throw ioProblem(path, e);
  }
  if (files.length === 0) throw new DataError(`${path} is an empty folder; give a folder of trace files (ADFA-LD layout) or a Tetragon recording`);
  const traces: Trace[] = [];
  for (let i = 0; i < files.length; i++) {
    for (const t of await readOne(path, files[i], opts.abi)) if (t.calls.length > 0) traces.push(t);
    opts.onFile?.(i + 1, files.length);
  }
  if (traces.length === 0) throw new DataError(`${path} holds no syscalls (${files.length} file(s), all empty)`);
  return { root: path, traces, files };
}
