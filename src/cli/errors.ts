// Errors a user can fix: printed as one line, without a stack trace.

/** Exit code for bad input data or arguments (EX_USAGE / EX_DATAERR style). */
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = EXIT_USAGE,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}
