// The hub's HTTP listener: Node's http server running the Hono app.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Lifecycle } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';

export interface HubHttpServerOptions {
  /** HOST:PORT; port 0 picks a free one (tests). */
  address: string;
  // Hono's app type carries its route types; the server only needs its fetch.
  app: Pick<Hono, 'fetch'>;
  log: Logger;
}

/** HOST:PORT → host and port; throws a readable error for anything else. */
export function splitAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`ARGOS_HUB_HTTP: "${address}" is not HOST:PORT (e.g. 127.0.0.1:8480 or 0.0.0.0:8480)`);
  return { host: m[1] ?? m[2], port };
}

export class HubHttpServer implements Lifecycle {
  private server: Server | undefined;

  constructor(private readonly o: HubHttpServerOptions) {}

  address(): { host: string; port: number } | undefined {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? { host: a.address, port: a.port } : undefined;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const { host, port } = splitAddress(this.o.address);
    const listener = getRequestListener(this.o.app.fetch);
    const server = createServer((req, res) => void listener(req, res));
    server.keepAliveTimeout = 5000;
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        const hint = e.code === 'EADDRINUSE' ? 'another process uses it; set ARGOS_HUB_HTTP or --http to a free port' : 'check ARGOS_HUB_HTTP';
        reject(new Error(`cannot listen on ${this.o.address} (${e.code ?? e.message}): ${hint}`));
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    this.server = server;
    this.o.log.info(this.address() ?? {}, 'hub API and dashboard listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
