// Errors a user can fix when a source cannot start: one clear sentence saying what is
// wrong and what to do, meant to be printed without a stack trace.

export type SourceErrorKind = 'missing-binary' | 'permission' | 'missing-file' | 'not-ready' | 'failed';

export class SourceError extends Error {
  constructor(
    readonly kind: SourceErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SourceError';
  }
}

export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** What to say when a program a source runs cannot be started. */
export interface ProgramHelp {
  /** What the program is, e.g. "Tetragon". */
  what: string;
  /** The setting that names the program, e.g. ARGOS_TETRAGON_BIN. */
  setting: string;
  /** How to get it, e.g. "install it from https://tetragon.io/docs/installation/". */
  install: string;
  /** Other sources to suggest when it cannot run here. */
  alternatives: string;
}

/** Turns a spawn error (ENOENT, EACCES, ...) into a SourceError with a fix. */
export function spawnError(bin: string, err: unknown, help: ProgramHelp): SourceError {
  const code = errnoCode(err);
  if (code === 'ENOENT') {
    return new SourceError(
      'missing-binary',
      `${help.what} executable "${bin}" was not found: ${help.install}, or set ${help.setting} to its path, or use ${help.alternatives}`,
      { cause: err },
    );
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new SourceError(
      'permission',
      `${help.what} executable "${bin}" cannot be run (${code}): make it executable (chmod +x) or set ${help.setting} to the right file`,
      { cause: err },
    );
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new SourceError('failed', `${help.what} ("${bin}") could not be started: ${detail}`, { cause: err });
}
