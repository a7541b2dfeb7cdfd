// What every command gets: the process's streams and environment, passed in so that
// tests can run commands in-process and capture their output.
import type { Command } from 'commander';

export interface CliContext {
  env: Readonly<Record<string, string | undefined>>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  /** Working directory for relative paths and the default `.env`. */
  cwd: string;
}

export interface CommandModule {
  register(program: Command, ctx: CliContext): void;
}
