// Test helper, run with Bun: binds a unix datagram socket (what systemd listens on for
// NOTIFY_SOCKET), prints each received datagram as a JSON string line, and exits after
// `count` datagrams or when no datagram came for `timeoutMs`. Node has no unix datagram
// sockets, so the receiving side needs Bun's FFI too.
//   bun test/helpers/notify-receiver.ts SOCKET_PATH COUNT TIMEOUT_MS
import { dlopen, FFIType, ptr } from 'bun:ffi';

const [path, countArg, timeoutArg] = process.argv.slice(2);
const count = Number(countArg ?? 1);
const timeoutMs = Number(timeoutArg ?? 5000);

const t = FFIType;
const { symbols: c } = dlopen('libc.so.6', {
  socket: { args: [t.i32, t.i32, t.i32], returns: t.i32 },
  bind: { args: [t.i32, t.ptr, t.u32], returns: t.i32 },
  recv: { args: [t.i32, t.ptr, t.u64, t.i32], returns: t.i64 },
  setsockopt: { args: [t.i32, t.i32, t.i32, t.ptr, t.u32], returns: t.i32 },
  close: { args: [t.i32], returns: t.i32 },
});

const fd = Number(c.socket(1, 2, 0));
const addr = Buffer.alloc(110);
addr.writeUInt16LE(1, 0);
Buffer.from(path, 'utf8').copy(addr, 2);
if (Number(c.bind(fd, ptr(addr), addr.length)) !== 0) {
  process.stderr.write(`bind ${path} failed\n`);
  process.exit(1);
}
// SO_RCVTIMEO (level SOL_SOCKET=1, option 20): a bounded wait per datagram.
const tv = Buffer.alloc(16);
tv.writeBigInt64LE(BigInt(Math.floor(timeoutMs / 1000)), 0);
tv.writeBigInt64LE(BigInt((timeoutMs % 1000) * 1000), 8);
c.setsockopt(fd, 1, 20, ptr(tv), tv.length);
process.stdout.write('listening\n');

const buf = Buffer.alloc(4096);
for (let i = 0; i < count; i++) {
  // Without a control buffer, file descriptors sent along (systemd-notify's barrier) are closed.
  const n = Number(c.recv(fd, ptr(buf), buf.length, 0));
  if (n < 0) break;
  process.stdout.write(`${JSON.stringify(buf.subarray(0, n).toString('utf8'))}\n`);
}
c.close(fd);
