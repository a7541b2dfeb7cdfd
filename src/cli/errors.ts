// Errors a user can fix: printed as one line, without a stack trace. The stages throw their
// own typed errors (ConfigError, ModelError, DataError, SourceError, ...); only the CLI turns
// them into exit codes and messages.

/** Exit code for bad input data or arguments (EX_USAGE / EX_DATAERR style). */
export const EXIT_USAGE = 2;

/** Exit code for a bad configuration (EX_CONFIG from sysexits.h). */
export const EXIT_CONFIG = 78;

export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = EXIT_USAGE,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}
