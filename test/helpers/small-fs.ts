// A small file system for disk-full tests: a tmpfs mounted (as root) on a new temporary folder,
// unmounted and removed after the test; and a filler that uses up its space.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Mounts a tmpfs of `size` on a new temporary folder; undefined when this user cannot mount. */
export function smallFileSystem(t: { after(fn: () => void): void }, size: string): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'argos-full-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'argos-test', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmdirSync(dir);
    return undefined;
  }
  t.after(() => {
    const u = spawnSync('umount', [dir], { encoding: 'utf8' });
    if (u.status !== 0) spawnSync('umount', ['-l', dir]);
    rmdirSync(dir);
  });
  return dir;
}

/** Writes a filler file until the file system is full; returns its path. */
export function fill(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(16 * 1024, 0x55);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    // Fill the last bytes too.
    for (let n = 8192; n >= 1; n = Math.floor(n / 2)) {
      try {
        for (;;) writeSync(fd, chunk, 0, n);
      } catch {
        // next, smaller size
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

