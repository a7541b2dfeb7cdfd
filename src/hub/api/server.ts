// The hub's HTTP listener: Node's http server running the Hono app.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Lifecycle } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { closeServer, listen } from '../../runtime/listen.js';

export interface HubHttpServerOptions {
  /** HOST:PORT; port 0 picks a free one (tests). */
  address: string;
  // Hono's app type carries its route types; the server only needs its fetch.
  app: Pick<Hono, 'fetch'>;
  log: Logger;
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
    const listener = getRequestListener(this.o.app.fetch);
    const server = createServer((req, res) => void listener(req, res));
    server.keepAliveTimeout = 5000;
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await listen(server, this.o.address, 'ARGOS_HUB_HTTP', 'set ARGOS_HUB_HTTP or --http to a free port');
    this.server = server;
    this.o.log.info(this.address() ?? {}, 'hub API and dashboard listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeServer(server);
  }
}
