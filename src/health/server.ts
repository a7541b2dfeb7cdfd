// The HTTP side of health and metrics: GET /healthz (every check; 503 unless all pass),
// GET /livez (critical checks only; for liveness probes and watchdogs) and GET /metrics
// (Prometheus text). Loopback by default; an empty address turns it off.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Lifecycle } from '../core/types.js';
import type { Logger } from '../core/logger.js';
import { VERSION } from '../core/version.js';
import { runProbes, type HealthProbe } from './probe.js';
import { systemClock, type Clock } from '../core/time.js';
import { closeServer, listen, parseListenAddress } from '../runtime/listen.js';

export interface HealthServerOptions {
  /** HOST:PORT (`[::1]:9464` for IPv6); '' = no server. Port 0 picks a free port (tests). */
  address: string;
  registry: Registry;
  probes: readonly HealthProbe[];
  log: Logger;
  /** Bound on each probe's check. */
  checkTimeoutMs?: number;
  clock?: Clock;
}

export { parseListenAddress };

export class HealthServer implements Lifecycle {
  private server: Server | undefined;
  private readonly started: number;
  private readonly clock: Clock;

  constructor(private readonly opts: HealthServerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.started = this.clock.monotonic();
  }

  /** The bound address once started (undefined when off). */
  address(): { host: string; port: number } | undefined {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? { host: a.address, port: a.port } : undefined;
  }

  async start(): Promise<void> {
    if (this.opts.address === '' || this.server) return;
    parseListenAddress(this.opts.address);
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        this.opts.log.error({ err: e, url: req.url }, 'health endpoint failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      });
    });
    server.keepAliveTimeout = 5000;
    server.headersTimeout = 10_000;
    server.requestTimeout = 10_000;
    await listen(server, this.opts.address, 'ARGOS_HTTP_ADDRESS', 'set ARGOS_HTTP_ADDRESS to a free port, or empty to turn it off');
    this.server = server;
    const a = this.address();
    this.opts.log.info({ host: a?.host, port: a?.port }, 'health and metrics endpoint listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeServer(server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
      res.end('method not allowed\n');
      return;
    }
    switch (path) {
      case '/healthz':
      case '/livez': {
        const probes = path === '/livez' ? this.opts.probes.filter((p) => p.critical) : this.opts.probes;
        const report = await runProbes(probes, this.opts.checkTimeoutMs);
        const body = {
          ...report,
          version: VERSION,
          uptimeSeconds: Math.round((this.clock.monotonic() - this.started) / 1000),
        };
        send(res, report.status === 'ok' ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`, req.method === 'HEAD');
        return;
      }
      case '/metrics': {
        const text = await this.opts.registry.metrics();
        send(res, 200, this.opts.registry.contentType, text, req.method === 'HEAD');
        return;
      }
      default:
        send(res, 404, 'text/plain', 'not found: try /healthz, /livez or /metrics\n', req.method === 'HEAD');
    }
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}
