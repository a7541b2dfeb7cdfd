// Getting ONNX Runtime ready before onnxruntime-node loads: telemetry off, and in a
// compiled binary the embedded native library unpacked to the cache and loaded first.
import { createRequire } from 'node:module';
import type * as BunFfi from 'bun:ffi';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { cacheDirCandidates, extractOnce, type CacheEnv } from './cache-dir.js';
import { libc } from './libc.js';
import { isBun } from './platform.js';

/** ORT's native files embedded in a compiled binary (Bun's embedded file paths). */
export interface EmbeddedOrt {
  /** Content hash of the two files. */
  key: string;
  /** `libonnxruntime.so.1`. */
  library: string;
  /** `onnxruntime_binding.node`. */
  binding: string;
}

export interface OrtPreparation {
  /** ORT_DISABLE_TELEMETRY as the C library will see it. */
  telemetry: 'off' | 'on';
  /** Folder the embedded native files were unpacked to (compiled binary only). */
  nativeDir?: string;
  /** True when this start unpacked them (false: reused from an earlier start). */
  unpacked?: boolean;
}

const TELEMETRY_VAR = 'ORT_DISABLE_TELEMETRY';

let prepared: OrtPreparation | undefined;
// Keeps the preloaded library's handle alive for the life of the process.
let libraryHandle: unknown;

/**
 * Turns ORT telemetry off unless the environment already decided (Node writes `process.env`
 * through to the C environment; Bun does not, so there it goes through libc `setenv`).
 * Call before anything imports onnxruntime-node. Idempotent.
 */
export function prepareOrt(): OrtPreparation {
  if (prepared) return prepared;
  process.env[TELEMETRY_VAR] ??= '1';
  const value = process.env[TELEMETRY_VAR];
  if (isBun()) libc()?.setenv(TELEMETRY_VAR, value, false);
  prepared = { telemetry: value === '0' || value === 'false' ? 'on' : 'off' };
  return prepared;
}

/**
 * For the compiled binary: unpacks ORT's library and addon into the cache (once per version),
 * loads the library so the addon's dependency on it is already met, and returns the addon's
 * exports. The build makes onnxruntime-node call this instead of requiring its own addon.
 */
export function loadEmbeddedOrtBinding(ort: EmbeddedOrt, cacheEnv?: CacheEnv): unknown {
  const state = prepareOrt();
  const env = cacheEnv ?? { env: process.env, execPath: process.execPath, uid: process.getuid?.() };
  const { dir, created } = extractOnce(cacheDirCandidates(env), 'ort', ort.key, [
    { rel: 'libonnxruntime.so.1', read: () => readFileSync(ort.library) },
    { rel: 'onnxruntime_binding.node', read: () => readFileSync(ort.binding) },
  ]);
  state.nativeDir = dir;
  state.unpacked = created;
  if (isBun()) {
    const ffi = createRequire(import.meta.url)('bun:ffi') as typeof BunFfi;
    libraryHandle ??= ffi.dlopen(join(dir, 'libonnxruntime.so.1'), {
      OrtGetApiBase: { args: [], returns: ffi.FFIType.ptr },
    });
  }
  const mod = { exports: {} as unknown };
  process.dlopen(mod, join(dir, 'onnxruntime_binding.node'));
  return mod.exports;
}

/** What `prepareOrt` and the binding loader did (for `argos doctor` and logs). */
export function ortPreparation(): OrtPreparation | undefined {
  return prepared;
}
