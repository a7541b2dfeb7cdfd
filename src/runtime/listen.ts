// Listening on HOST:PORT for the daemon's health endpoint and the hub's API: one parser of the
// address and one readable error for a port that cannot be had.
import type { Server } from 'node:http';

/** Splits HOST:PORT (`[::1]:9464` for IPv6); throws a readable error for anything else. */
export function parseListenAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`"${address}" is not HOST:PORT (e.g. 127.0.0.1:9464 or [::1]:9464)`);
  return { host: m[1] ?? m[2], port };
}

/** Starts `server` on `address`; a failure names `setting` (and `whenBusy` for a port in use). */
export function listen(server: Server, address: string, setting: string, whenBusy: string): Promise<void> {
  const { host, port } = parseListenAddress(address);
  return new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      const hint = e.code === 'EADDRINUSE' ? `another process uses it; ${whenBusy}` : `check ${setting}`;
      reject(new Error(`cannot listen on ${address} (${e.code ?? e.message}): ${hint}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Stops accepting, closes every open connection, and resolves once the server is closed. */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
