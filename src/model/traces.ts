// Reading syscall traces for training and evaluation.
//
// A PATH is one of:
// - a folder of trace files, read recursively (the ADFA-LD layout): one trace per file,
//   whitespace-separated syscall numbers (need an ABI) or syscall names;
// - a Tetragon JSON-lines recording (`.json`, `.jsonl`, `.log`, optionally `.gz`): the
//   syscalls of each exec_id form one trace, named by its program (binary, with the image
//   repository in a pod). Recordings are read as streams, whatever their size. Rotated
//   files of one export (`tetragon.log`, `tetragon.log.1`, `tetragon.log.2.gz`, ...) are one
//   stream, oldest first, so a process spanning two files stays one trace;
// - a single trace file.
// A trace's attack type is its first-level folder's name below PATH without a trailing `_N`
// (ADFA-LD: `Attack_Data_Master/Adduser_3/UAD-Adduser-3-1.txt` is type `Adduser`). With
// `programBy: 'folder'`, the first-level folder also names a trace file's program.
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { programKey } from '../core/program.js';
import { ABIS, type Abi, type PodInfo } from '../core/types.js';
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
  /** The program that made the calls, when the data says (see core/program.ts). */
  program?: string;
  /** The process's exec_id, for a trace from a recording. */
  execId?: string;
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
  /** `folder`: a trace file's first-level folder below PATH names its program. */
  programBy?: 'folder';
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

interface TetragonProcess {
  exec_id?: string;
  pid?: number;
  binary?: string;
  pod?: { namespace?: string; name?: string; container?: { image?: { name?: string } } };
}

/** The traces of one recording stream (one file, or the rotated files of one export). */
class RecordingTraces {
  /** In order of each process's first syscall. */
  private readonly byExec = new Map<string, { calls: (string | null)[]; program?: string }>();
  /** Programs named by exec events (before the first syscall). */
  private readonly execPrograms = new Map<string, string>();
  events = 0;

  constructor(private readonly abi: Abi | undefined) {}

  private static program(p: TetragonProcess | undefined): string | undefined {
    if (p?.binary === undefined || p.binary === '') return undefined;
    const image = p.pod?.container?.image?.name;
    const pod: PodInfo | undefined = image === undefined ? undefined : { namespace: p.pod?.namespace ?? '', name: p.pod?.name ?? '', image };
    return programKey({ binary: p.binary, pod });
  }

  line(line: string, where: () => string): void {
    if (line.trim() === '') return;
    let ev: unknown;
    try {
      ev = JSON.parse(line);
    } catch {
      throw new DataError(`${where()} is not JSON; a recording holds one Tetragon JSON event per line`);
    }
    if (typeof ev !== 'object' || ev === null) throw new DataError(`${where()} is not a Tetragon event object`);
    this.events++;
    const exec = (ev as { process_exec?: { process?: TetragonProcess } }).process_exec;
    if (exec !== undefined) {
      const key = exec.process?.exec_id ?? `pid:${exec.process?.pid ?? 0}`;
      const program = RecordingTraces.program(exec.process);
      if (program === undefined) return;
      const e = this.byExec.get(key);
      if (e !== undefined) e.program = program;
      else this.execPrograms.set(key, program);
      return;
    }
    const tp = (ev as { process_tracepoint?: { subsys?: string; event?: string; process?: TetragonProcess; args?: TetragonSyscallArg[] } }).process_tracepoint;
    if (tp === undefined || tp.subsys !== 'raw_syscalls' || tp.event !== 'sys_enter') return;
    const arg = tp.args?.[0];
    let name: string | undefined;
    if (arg?.syscall_id !== undefined) {
      const a = ABIS.find((x) => x === arg.syscall_id?.abi) ?? this.abi;
      if (a === undefined) throw new DataError(`${where()}: unknown syscall ABI "${String(arg.syscall_id.abi)}"`);
      name = syscallName(a, arg.syscall_id.id ?? 0);
    } else {
      const raw = arg?.long_arg ?? arg?.size_arg;
      if (raw === undefined) throw new DataError(`${where()}: a sys_enter event without a syscall argument`);
      if (this.abi === undefined) throw new DataError(`${where()} reports syscalls as plain numbers; say which ABI the node runs with --abi`);
      name = syscallName(this.abi, Number(raw));
    }
    const key = tp.process?.exec_id ?? `pid:${tp.process?.pid ?? 0}`;
    let e = this.byExec.get(key);
    if (e === undefined) {
      e = { calls: [] };
      const program = this.execPrograms.get(key) ?? RecordingTraces.program(tp.process);
      if (program !== undefined) e.program = program;
      this.execPrograms.delete(key);
      this.byExec.set(key, e);
    }
    e.calls.push(name === undefined ? null : normaliseName(name));
  }

  /** One trace per exec_id with calls, in order of first event. */
  traces(source: string): Trace[] {
    const out: Trace[] = [];
    for (const [key, e] of this.byExec) {
      if (e.calls.length === 0) continue;
      const t: Trace = { source: `${source}#${key}`, calls: e.calls, execId: key };
      if (e.program !== undefined) t.program = e.program;
      out.push(t);
    }
    return out;
  }
}

/** Splits a Tetragon JSON-lines recording into one trace per exec_id (in order of first syscall). */
export function parseRecording(text: string, file: string, abi: Abi | undefined): Trace[] {
  const r = new RecordingTraces(abi);
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) r.line(lines[n], () => `${file}:${n + 1}`);
  if (r.events === 0) throw new DataError(`${file} holds no events`);
  return r.traces(file);
}

async function isGzipFile(file: string): Promise<boolean> {
  const { open } = await import('node:fs/promises');
  const h = await open(file, 'r');
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await h.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await h.close();
  }
}

/** Streams the lines of one recording file (gzip or plain) into `r`. */
async function streamRecording(file: string, r: RecordingTraces): Promise<void> {
  let input: Readable;
  try {
    input = createReadStream(file);
    if (await isGzipFile(file)) {
      const gunzip = createGunzip();
      input.on('error', (e) => gunzip.destroy(e));
      input = input.pipe(gunzip);
    }
  } catch (e) {
    throw ioProblem(file, e);
  }
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      r.line(line, () => `${file}:${n}`);
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') throw new DataError(`${file} is not a valid gzip file (cut short or damaged after line ${n})`);
    throw ioProblem(file, e);
  } finally {
    input.destroy();
  }
}

/** `tetragon.log.3.gz` → stem `tetragon.log` and rotation 3 (the live file is 0). */
export function rotation(file: string): { stem: string; index: number } {
  const name = basename(file);
  const m = /^(.*\.(?:jsonl?|log))(?:\.(\d+))?(?:\.gz)?$/i.exec(name);
  if (m === null) return { stem: name.replace(/\.gz$/i, ''), index: 0 };
  return { stem: m[1], index: m[2] === undefined ? 0 : Number(m[2]) };
}

const ROTATED = /\.(jsonl?|log)(\.\d+)?(\.gz)?$/i;

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

/** The first non-blank character of a file (`{` for a recording). */
async function firstChar(file: string): Promise<string> {
  const { open } = await import('node:fs/promises');
  let h;
  try {
    h = await open(file, 'r');
  } catch (e) {
    throw ioProblem(file, e);
  }
  try {
    const b = Buffer.alloc(256);
    const { bytesRead } = await h.read(b, 0, 256, 0);
    if (bytesRead >= 2 && b[0] === 0x1f && b[1] === 0x8b) return '{';
    return b.subarray(0, bytesRead).toString('utf8').trimStart().charAt(0);
  } finally {
    await h.close();
  }
}

async function isRecording(file: string): Promise<boolean> {
  return ROTATED.test(file) || (await firstChar(file)) === '{';
}

/** Reads a group of recording files (one file, or one export's rotations, oldest first) as one stream. */
async function readRecordingGroup(files: readonly string[], abi: Abi | undefined, type: string | undefined): Promise<Trace[]> {
  const r = new RecordingTraces(abi);
  for (const f of files) await streamRecording(f, r);
  if (r.events === 0) throw new DataError(`${files.join(', ')} hold${files.length === 1 ? 's' : ''} no events`);
  const source = files.length === 1 ? files[0] : join(dirname(files[0]), rotation(files[0]).stem);
  return r.traces(source).map((t) => (type === undefined ? t : { ...t, type }));
}

async function readTraceFile(root: string, file: string, abi: Abi | undefined, programBy: 'folder' | undefined): Promise<Trace[]> {
  const text = await readText(file);
  const type = traceType(root, file);
  const calls = parseTraceText(text, file, abi);
  const t: Trace = { source: file, calls, ...(type === undefined ? {} : { type }) };
  if (programBy === 'folder') {
    const parts = relative(root, file).split(sep);
    if (parts.length >= 2) t.program = parts[0];
  }
  return [t];
}

/** Groups the files: rotated recordings of one export together (oldest first); every other file alone. */
async function groups(files: readonly string[]): Promise<{ files: string[]; recording: boolean }[]> {
  const out: { files: string[]; recording: boolean }[] = [];
  const byStem = new Map<string, { files: string[]; recording: boolean }>();
  for (const f of files) {
    if (!(await isRecording(f))) {
      out.push({ files: [f], recording: false });
      continue;
    }
    const key = join(dirname(f), rotation(f).stem);
    let g = byStem.get(key);
    if (g === undefined) {
      g = { files: [], recording: true };
      byStem.set(key, g);
      out.push(g);
    }
    g.files.push(f);
  }
  for (const g of byStem.values()) g.files.sort((a, b) => rotation(b).index - rotation(a).index);
  return out;
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
  let done = 0;
  for (const g of await groups(files)) {
    const read = g.recording ? await readRecordingGroup(g.files, opts.abi, traceType(path, g.files[0])) : await readTraceFile(path, g.files[0], opts.abi, opts.programBy);
    for (const t of read) if (t.calls.length > 0) traces.push(t);
    done += g.files.length;
    opts.onFile?.(done, files.length);
  }
  if (traces.length === 0) throw new DataError(`${path} holds no syscalls (${files.length} file(s), all empty)`);
  return { root: path, traces, files };
}
