// Files that ship with Argos (the default model, the Tetragon policy, the demo recording):
// on disk in a checkout; embedded in a compiled binary and unpacked on first use.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDirCandidates, extractOnce, type CacheEnv } from './cache-dir.js';

/** What a compiled binary registers at start: asset path → Bun's embedded file path. */
export interface EmbeddedAssets {
  /** Content hash of all the files, so a new version unpacks into a new folder. */
  key: string;
  files: Readonly<Record<string, string>>;
}

// Set once by the compiled binary's entry, before any command runs; a build-time table.
let embedded: EmbeddedAssets | undefined;
let unpackedDir: string | undefined;

/** Called by the compiled binary's entry; `undefined` goes back to the checkout's files. */
export function registerEmbeddedAssets(assets: EmbeddedAssets | undefined): void {
  embedded = assets;
  unpackedDir = undefined;
}

/** Relative paths of the embedded files (empty outside a compiled binary). */
export function embeddedAssetPaths(): string[] {
  return embedded ? Object.keys(embedded.files).sort() : [];
}

function cleanRel(rel: string): string {
  const n = normalize(rel).replace(/\\/g, '/').replace(/\/+$/, '');
  if (n.startsWith('..') || n.startsWith('/') || n === '.' || n === '') {
    throw new Error(`"${rel}" is not a path inside the Argos distribution`);
  }
  return n;
}

/** The checkout's root: the nearest folder above this module that has `models/` and `package.json`. */
export function checkoutRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'models'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return resolve(from, '..', '..');
}

function processCacheEnv(): CacheEnv {
  return { env: process.env, execPath: process.execPath, uid: process.getuid?.() };
}

/**
 * A real file or folder path for a shipped asset such as `models/default` or
 * `config/tetragon/raw-syscalls.yaml`, that other programs (Tetragon, ONNX Runtime) can open.
 * Throws a readable error when the asset is not part of this distribution.
 */
export function resolveAsset(rel: string, cacheEnv: CacheEnv = processCacheEnv()): string {
  const r = cleanRel(rel);
  if (!embedded) {
    const p = join(checkoutRoot(), r);
    if (!existsSync(p)) throw new Error(`${r} is missing from this checkout (${p}); run npm run setup or restore the file`);
    return p;
  }
  const files = embedded.files;
  const isFile = r in files;
  const isDir = Object.keys(files).some((f) => f.startsWith(`${r}/`));
  if (!isFile && !isDir) throw new Error(`${r} is not embedded in this binary (it has: ${embeddedAssetPaths().join(', ')})`);
  if (!unpackedDir) {
    const all = Object.entries(files).map(([path, src]) => ({ rel: path, read: () => readFileSync(src) }));
    unpackedDir = extractOnce(cacheDirCandidates(cacheEnv), 'assets', embedded.key, all).dir;
  }
  return join(unpackedDir, ...r.split('/'));
}

/** The content of a shipped file, without unpacking anything. */
export function readAsset(rel: string): Buffer {
  const r = cleanRel(rel);
  if (!embedded) return readFileSync(join(checkoutRoot(), r));
  const src = embedded.files[r];
  if (src === undefined) throw new Error(`${r} is not embedded in this binary`);
  return readFileSync(src);
}

/** True when `rel` names a shipped file or folder. */
export function assetExists(rel: string): boolean {
  const r = cleanRel(rel);
  if (!embedded) return existsSync(join(checkoutRoot(), r));
  return r in embedded.files || Object.keys(embedded.files).some((f) => f.startsWith(`${r}/`));
}


/** The shipped Tetragon tracing policy, as a file Tetragon can read. */
export function shippedPolicy(): string {
  return resolveAsset('config/tetragon/raw-syscalls.yaml');
}
