// Finding and running the executables the sources need (tetragon, tetra, bpftrace).
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { DoctorCheck, DoctorContext } from './check.js';

/** Finds an executable on PATH (or checks a path). */
export function whichSync(bin: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const candidates = bin.includes('/') ? [bin] : (env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter).filter(Boolean).map((d) => join(d, bin));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      if (statSync(c).isFile()) return c;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Checks an executable that a source needs: found, and it answers `args` (a version query). */
export async function binaryCheck(ctx: DoctorContext, name: string, bin: string, args: string[], fix: string): Promise<DoctorCheck> {
  const path = whichSync(bin, ctx.env);
  if (!path) return { name, status: 'fail', detail: `${bin} not found${bin.includes('/') ? '' : ' on PATH'}`, fix };
  try {
    const v = await ctx.version(path, args, ctx.timeoutMs);
    return { name, status: 'ok', detail: `${path}${v ? ` (${v})` : ''}` };
  } catch (e) {
    return { name, status: 'fail', detail: `${path} does not run: ${(e as Error).message}`, fix };
  }
}
