// Files a compiled binary must put on disk (ONNX Runtime's shared library, the model for
// Tetragon and ONNX Runtime to open) go to one cache folder, extracted once per content
// version and reused by every later start; older versions are removed.
import { closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface CacheEnv {
  env: Readonly<Record<string, string | undefined>>;
  /** The running executable (`process.execPath`). */
  execPath: string;
  /** Effective user id, or undefined where there is none. */
  uid: number | undefined;
}

/** Where the cache may go, most preferred first. */
export function cacheDirCandidates({ env, execPath, uid }: CacheEnv): string[] {
  const dirs: string[] = [];
  const add = (d: string | undefined) => {
    if (d && d.startsWith('/') && !dirs.includes(d)) dirs.push(d);
  };
  add(env.ARGOS_CACHE_DIR);
  // systemd's CacheDirectory= (a colon-separated list when several are set).
  add(env.CACHE_DIRECTORY?.split(':')[0]);
  add(env.XDG_CACHE_HOME && join(env.XDG_CACHE_HOME, 'argos'));
  if (uid === 0) add('/var/cache/argos');
  if (env.HOME && env.HOME !== '/') add(join(env.HOME, '.cache', 'argos'));
  add(join(dirname(execPath), '.argos-cache'));
  add(join(tmpdir(), `argos-cache-${uid ?? 'user'}`));
  return dirs;
}

export interface CachedFile {
  /** Path inside the extracted folder. */
  rel: string;
  /** Produces the content (read lazily, only when extracting). */
  read(): Uint8Array;
}

export interface Extracted {
  dir: string;
  /** False when an earlier start had already extracted this version. */
  created: boolean;
}

const COMPLETE = '.complete';

/**
 * Makes `<cache>/<name>-<key>/` hold `files`, extracting them only when that folder is not
 * complete yet; tries each candidate folder in turn (read-only or unwritable ones are skipped).
 * Safe against concurrent starts: each extracts into its own temporary folder and renames it.
 */
export function extractOnce(candidates: readonly string[], name: string, key: string, files: readonly CachedFile[]): Extracted {
  const problems: string[] = [];
  for (const root of candidates) {
    const dir = join(root, `${name}-${key}`);
    const tmp = join(root, `.${name}-${key}.tmp-${process.pid}`);
    try {
      mkdirSync(root, { recursive: true, mode: 0o755 });
      // A native library is loaded from here: nobody else may have put files in it.
      const why = untrusted(root);
      if (why) {
        problems.push(`${root}: ${why}`);
        continue;
      }
      if (existsSync(join(dir, COMPLETE)) && !untrusted(dir)) return { dir, created: false };
      removeQuietly(tmp);
      for (const f of files) writeFile(join(tmp, f.rel), f.read());
      writeFile(join(tmp, COMPLETE), new TextEncoder().encode(`${key}\n`));
      try {
        renameSync(tmp, dir);
      } catch {
        // Another process finished first, or a stale or untrusted folder is in the way.
        if (existsSync(join(dir, COMPLETE)) && !untrusted(dir)) {
          removeQuietly(tmp);
          return { dir, created: false };
        }
        rmSync(dir, { recursive: true, force: true });
        renameSync(tmp, dir);
      }
      pruneOtherVersions(root, name, key);
      return { dir, created: true };
    } catch (e) {
      removeQuietly(tmp);
      problems.push(`${root}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  throw new Error(
    `cannot unpack ${name} into a cache folder (${problems.join('; ')}); set ARGOS_CACHE_DIR to a writable folder`,
  );
}

/** Why a folder cannot be trusted (not a real folder, another user's, writable by others), or undefined. */
function untrusted(path: string): string | undefined {
  const s = lstatSync(path);
  if (!s.isDirectory()) return 'not a folder (symbolic links are not followed)';
  const uid = process.getuid?.();
  if (uid !== undefined && s.uid !== uid && s.uid !== 0) return `owned by another user (uid ${s.uid})`;
  if ((s.mode & 0o022) !== 0) return 'writable by group or others';
  return undefined;
}

function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // nothing to clean up where nothing could be written
  }
}

function writeFile(path: string, data: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const fd = openSync(path, 'w', 0o644);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Removes other versions' folders of `name` (after an upgrade); best effort. */
function pruneOtherVersions(root: string, name: string, key: string): void {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return;
  }
  for (const e of entries) {
    const other = e.startsWith(`${name}-`) && e !== `${name}-${key}`;
    const tmpOf = /\.tmp-(\d+)$/.exec(e)?.[1];
    const staleTmp = e.startsWith(`.${name}-`) && tmpOf !== undefined && !isAlive(Number(tmpOf));
    if (other || staleTmp) rmSync(join(root, e), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
