// The shared vocabulary of the pipeline: what flows from one stage to the next.
// Stages depend on these types, never on each other's classes.
import type { WhyCall } from './alert.js';

/** Every long-lived part has the same lifecycle; constructors do no I/O. */
export interface Lifecycle {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Syscall ABIs as Tetragon names them in `syscall_id.abi`. */
export type Abi = 'x64' | 'i386' | 'arm64' | 'arm32';
export const ABIS: readonly Abi[] = ['x64', 'i386', 'arm64', 'arm32'];

/** Kubernetes pod context of a process, when Tetragon knows it. */
export interface PodInfo {
  namespace: string;
  name: string;
  container?: string;
  image?: string;
}

/** The process a window or an alert belongs to. `execId` is the key (pids are reused). */
export interface ProcessInfo {
  execId: string;
  pid: number;
  binary: string;
  arguments: string;
  uid?: number;
  parentExecId?: string;
  /** The parent process, when the event names it. */
  parent?: { pid: number; execId: string; binary: string };
  startTime?: string;
  pod?: PodInfo;
}

/**
 * One window of model tokens cut from one process's syscalls.
 * `tokens` has `length <= windowSize`; a partial window (process exit) is shorter.
 * The tracker hands out a fresh array per window: consumers may keep it.
 */
export interface SyscallWindow {
  process: ProcessInfo;
  tokens: Int32Array;
  /** 0-based index of this window within its process. */
  seq: number;
  /** True when cut at process exit (partial or last window). */
  final: boolean;
  /** Wall-clock ms when the window was emitted (injected clock). */
  at: number;
  /** Calls of its process up to the window's last: the window is calls [end − tokens.length, end) (set by the tracker). */
  end?: number;
}

/** A window with its model score (and, for a window at or above the threshold, why). */
export interface Verdict {
  window: SyscallWindow;
  score: number;
  /** The most surprising calls of the window, most surprising first (models that report surprisal). */
  why?: WhyCall[];
  /** The threshold of the model that scored it (a model swap changes it). */
  threshold?: number;
  /** The name of the model that scored it. */
  model?: string;
}

/** Where a line-oriented source delivers its lines (one Tetragon JSON event per line). */
export interface LineSink {
  line(line: string): void;
  /**
   * The same, as the bytes `buf[from, to)` (UTF-8, no newline), valid only during the call.
   * Optional: a sink that has it spares the source decoding every line to a string.
   */
  bytes?(buf: Buffer, from: number, to: number): void;
}

/**
 * A source of Tetragon JSON lines. `start()` resolves once the source is reading
 * (for the managed source: once Tetragon is ready). `done` resolves when a finite
 * source (replay, stdin) has delivered everything.
 */
export interface EventSource extends Lifecycle {
  readonly name: string;
  readonly done: Promise<void>;
}

/** What the parser calls for each recognised event. The tracker implements it. */
export interface EventHandler {
  /** A syscall of process `key` (exec_id, or `pid:<n>` without one), already mapped to a model token. `line` lets the handler pull process info lazily the first time it sees `key` (valid only during the call). */
  syscall(key: string, token: number, line: EventLine): void;
  exec(process: ProcessInfo): void;
  exit(key: string): void;
}

/** The event line behind a syscall; the parser reads the process details from it only when asked. */
export interface EventLine {
  /** The process the event is about, or undefined when the line does not say. */
  process(): ProcessInfo | undefined;
}

/** An event line with no process details (windows cut from a bare trace). */
export const NO_LINE: EventLine = { process: () => undefined };

/** Where the tracker sends each finished window. The detector implements it. */
export interface WindowSink {
  window(w: SyscallWindow): void;
}

/** Where the detector sends scored windows. The alerter implements it. */
export interface VerdictSink {
  verdict(v: Verdict): void;
}

/** Scores windows of tokens; higher = more anomalous. Implemented over ONNX Runtime. */
export interface Classifier {
  /**
   * Windows of at most `window` tokens each (shorter ones are zero-padded by the classifier),
   * each scored by its profile (`profiles[i]`; 0 when absent or the model has no profiles).
   */
  score(windows: readonly Int32Array[], profiles?: Int32Array): Promise<Float32Array>;
  /**
   * Each call's surprisal (nats) in each window (an array as long as the window), for models
   * that report it; read only for windows that alert.
   */
  surprisals?(windows: readonly Int32Array[], profiles?: Int32Array): Promise<Float32Array[]>;
  close(): Promise<void>;
  /** Calls that can usefully run at once (e.g. worker threads); default 1. */
  readonly concurrency?: number;
  /** How its worker threads fare (classifiers that run them). */
  health?(): ClassifierHealth;
}

/** How a classifier's worker threads fare, for /healthz and the systemd watchdog. */
export interface ClassifierHealth {
  /** Worker threads started again after they died. */
  restarts: number;
  /** Worker threads dead right now (waiting to be started again). */
  dead: number;
  engines: number;
}
