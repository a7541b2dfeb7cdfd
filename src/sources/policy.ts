// Where the shipped Tetragon tracing policy lives. From a checkout or an npm install it is
// `config/tetragon/raw-syscalls.yaml` in the package; a compiled binary passes its own
// resolver (e.g. one that writes an embedded copy to a temporary file).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const POLICY_FILE = join('config', 'tetragon', 'raw-syscalls.yaml');

/** Finds the shipped policy by walking up from this module to the package root. */
export function defaultPolicyPath(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; ) {
    const candidate = join(dir, POLICY_FILE);
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`the shipped tracing policy ${POLICY_FILE} was not found above ${from}: set ARGOS_TETRAGON_POLICY to a policy file`);
}
