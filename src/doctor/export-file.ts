// The export source: Tetragon's JSON export file exists, is readable and is being written.
import { accessSync, constants, statSync } from 'node:fs';
import type { Check, DoctorCheck } from './check.js';

function describeAge(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
}

export function exportFileCheck(path: string, now: number = Date.now()): DoctorCheck {
  const name = 'tetragon export file';
  try {
    const s = statSync(path);
    accessSync(path, constants.R_OK);
    const age = now - s.mtimeMs;
    if (age > 10 * 60_000) {
      return { name, status: 'warn', detail: `${path} last written ${describeAge(age)} ago`, fix: 'is Tetragon running with the raw_syscalls policy (config/tetragon/raw-syscalls.yaml) and --export-filename set to this file?' };
    }
    return { name, status: 'ok', detail: `${path} (${s.size} bytes, written ${describeAge(age)} ago)` };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      name,
      status: 'fail',
      detail: `${path}: ${code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'not readable by this user' : (code ?? String(e))}`,
      fix: 'start Tetragon with --export-filename, or set ARGOS_EXPORT_FILE to the file it writes',
    };
  }
}

export const exportSourceCheck: Check = async ({ config }) => (config.source === 'export' ? [exportFileCheck(config.exportFile)] : []);
