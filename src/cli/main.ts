#!/usr/bin/env node
// The `argos` command: one entry point, one subcommand per job.
import { runCli } from './program.js';

/** How long the process may linger once its command has finished. */
const LINGER_LIMIT_MS = 5000;

// A closed pipe (`argos alerts | head`) ends the command quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  cwd: process.cwd(),
});
process.exitCode = code;
// Every command has finished its work (and stopped what it started) when runCli resolves. If
// something still keeps the event loop alive (a leaked handle: a bug), exit anyway rather than
// hang under systemd or in a script; the message makes the bug visible (tests look for it).
setTimeout(() => {
  process.stderr.write(`argos: still running ${LINGER_LIMIT_MS / 1000} s after the command ended (something kept the process alive); exiting with code ${code}\n`);
  process.exit(code);
}, LINGER_LIMIT_MS).unref();
