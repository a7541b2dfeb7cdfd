// libc calls that neither Node nor Bun expose, made through `bun:ffi` (Bun only).
// Node needs none of them: its `process.env` writes through to the C environment.
import { createRequire } from 'node:module';
import type * as BunFfi from 'bun:ffi';
import { isBun } from './platform.js';

export interface Libc {
  setenv(name: string, value: string, overwrite: boolean): boolean;
  /** A connectionless datagram to a unix socket path (`@name` = abstract namespace). */
  sendDatagram(path: string, payload: string): boolean;
}

let loaded: Libc | undefined;

/** The C library through Bun's FFI; undefined under Node (or if FFI is unavailable). */
export function libc(): Libc | undefined {
  if (loaded || !isBun()) return loaded;
  let ffi: typeof BunFfi;
  try {
    ffi = createRequire(import.meta.url)('bun:ffi') as typeof BunFfi;
  } catch {
    return undefined;
  }
  const t = ffi.FFIType;
  const spec = {
    setenv: { args: [t.ptr, t.ptr, t.i32], returns: t.i32 },
    socket: { args: [t.i32, t.i32, t.i32], returns: t.i32 },
    sendto: { args: [t.i32, t.ptr, t.u64, t.i32, t.ptr, t.u32], returns: t.i64 },
    close: { args: [t.i32], returns: t.i32 },
  };
  const lib = dlopenLibc(ffi, spec);
  if (!lib) return undefined;
  loaded = {
    setenv(name, value, overwrite) {
      // Keep the buffers referenced until the call returns.
      const n = Buffer.from(`${name}\0`, 'utf8');
      const v = Buffer.from(`${value}\0`, 'utf8');
      return lib.symbols.setenv(ffi.ptr(n), ffi.ptr(v), overwrite ? 1 : 0) === 0;
    },
    sendDatagram(path, payload) {
      const AF_UNIX = 1;
      const SOCK_DGRAM_CLOEXEC = 2 | 0o2000000;
      const MSG_NOSIGNAL = 0x4000;
      const fd = Number(lib.symbols.socket(AF_UNIX, SOCK_DGRAM_CLOEXEC, 0));
      if (fd < 0) return false;
      try {
        const name = Buffer.from(path.startsWith('@') ? `\0${path.slice(1)}` : path, 'utf8');
        if (name.length > 107) return false;
        const addr = Buffer.alloc(2 + name.length + 1);
        addr.writeUInt16LE(AF_UNIX, 0);
        name.copy(addr, 2);
        // Abstract names are not NUL-terminated: their length is exact.
        const addrLen = path.startsWith('@') ? 2 + name.length : addr.length;
        const data = Buffer.from(payload, 'utf8');
        const sent = Number(lib.symbols.sendto(fd, ffi.ptr(data), data.length, MSG_NOSIGNAL, ffi.ptr(addr), addrLen));
        return sent === data.length;
      } finally {
        lib.symbols.close(fd);
      }
    },
  };
  return loaded;
}

function dlopenLibc<S extends Record<string, BunFfi.FFIFunction>>(ffi: typeof BunFfi, spec: S): BunFfi.Library<S> | undefined {
  // glibc names it libc.so.6; musl (Alpine) has one libc.so that is also the loader.
  for (const name of ['libc.so.6', 'libc.so', 'libc.musl-x86_64.so.1', 'libc.musl-aarch64.so.1']) {
    try {
      return ffi.dlopen(name, spec);
    } catch {
      // try the next name
    }
  }
  return undefined;
}
