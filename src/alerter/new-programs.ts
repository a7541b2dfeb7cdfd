// New programs: a program the model never saw is an alert of its own kind, raised when it
// starts (before any window). Programs on the allowlist (globs over the binary path or the
// program key, ARGOS_NEW_PROGRAM_ALLOW) are left alone. Off for models that know no programs.
import picomatch from 'picomatch';
import { programKey, writableLocation } from '../core/program.js';
import type { ProcessInfo } from '../core/types.js';

/** Where the watch raises its alerts (the alerter). */
export interface NewProgramSink {
  newProgram(process: ProcessInfo, program: string, writable: string | undefined): void;
}

export interface NewProgramWatchOptions {
  sink: NewProgramSink;
  /** Globs of binaries (or program keys) never reported as new. */
  allow: readonly string[];
  /** The programs the model knows; undefined = the model knows none (the watch is off). */
  known: Readonly<Record<string, number>> | undefined;
}

export class NewProgramWatch {
  private known: ReadonlySet<string> | undefined;
  private readonly allowed: (s: string) => boolean;

  constructor(private readonly o: NewProgramWatchOptions) {
    this.known = o.known === undefined ? undefined : new Set(Object.keys(o.known));
    const matchers = o.allow.map((g) => picomatch(g, { dot: true }));
    this.allowed = (s) => matchers.some((m) => m(s));
  }

  /** The model changed (a retrained one knows other programs). */
  setKnown(known: Readonly<Record<string, number>> | undefined): void {
    this.known = known === undefined ? undefined : new Set(Object.keys(known));
  }

  /** True when `process` runs a program the model knows or the allowlist names (or the watch is off). */
  isKnown(process: Pick<ProcessInfo, 'binary' | 'pod'>): boolean {
    if (this.known === undefined || process.binary === '') return true;
    const key = programKey(process);
    return this.known.has(key) || this.allowed(process.binary) || this.allowed(key);
  }

  /** An exec: alerts when its program is new. */
  exec(process: ProcessInfo): void {
    if (this.isKnown(process)) return;
    this.o.sink.newProgram(process, programKey(process), writableLocation(process.binary));
  }
}
