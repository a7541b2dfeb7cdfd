// The hub's HTTP routes (Hono): the dashboard's files, the REST API under /api (bearer token;
// the read-only token may not send commands), /metrics (token too) and /healthz (open: it
// says only whether the hub is up). JSON everywhere; errors are {"error": "..."}.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { Registry } from 'prom-client';
import type { Clock } from '../../core/time.js';
import type { Logger } from '../../core/logger.js';
import { parseDuration } from '../../config/units.js';
import { CommandError, type Commander } from '../commands.js';
import type { HubStore } from '../store/store.js';
import type { Access, TokenCheck } from './auth.js';
import type { StaticFile } from './assets.js';

export interface ApiOptions {
  store: Pick<HubStore, 'nodes' | 'alerts' | 'alert' | 'timeline' | 'commands'>;
  commander: Pick<Commander, 'send'>;
  tokens: TokenCheck;
  registry: Registry;
  /** The dashboard's files by URL path. */
  files: (path: string) => StaticFile | undefined;
  /** Whether the hub can work (database open, broker connected), for /healthz. */
  health: () => { ok: boolean; mqtt: boolean };
  clock: Clock;
  log: Logger;
}

type Env = { Variables: { access: Access } };

export const MAX_LIMIT = 1000;

/** A point in time from `24h` (that long ago), an ISO time, or epoch milliseconds. */
export function parseSince(s: string, now: number): number | undefined {
  if (/^\d{12,}$/.test(s)) return Number(s);
  const ago = parseDuration(s);
  if (ago !== undefined) return now - ago;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : undefined;
}

const text = z.string().min(1).max(8192);

const alertQuery = z.strictObject({
  node: text.optional(),
  program: text.optional(),
  kind: z.enum(['anomaly', 'new_program'], { error: 'must be anomaly or new_program' }).optional(),
  since: z.string().max(64).optional(),
  before: z.string().max(64).optional(),
  limit: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1).max(MAX_LIMIT, `must be at most ${MAX_LIMIT}`).default(100),
});

const timelineQuery = z.strictObject({
  node: text.optional(),
  since: z.string().max(64).default('24h'),
  bucket: z.string().max(16).default('1h'),
});

function problem(c: Context, status: 400 | 401 | 403 | 404 | 503, error: string): Response {
  return c.json({ error }, status);
}

function badQuery(c: Context, e: z.ZodError): Response {
  const i = e.issues[0];
  const what = i?.code === 'unrecognized_keys' ? `unknown parameter ${i.keys.join(', ')}` : `${i?.path.join('.') ?? 'query'}: ${i?.message ?? 'invalid'}`;
  return problem(c, 400, what);
}

export function createApp(o: ApiOptions): Hono<Env> {
  const app = new Hono<Env>();

  app.onError((e, c) => {
    o.log.error({ err: e, path: c.req.path }, 'API request failed');
    return c.json({ error: 'internal error (see the hub log)' }, 500);
  });
  app.notFound((c) => problem(c, 404, 'not found: the API is under /api (nodes, alerts, timeline), the dashboard at /'));

  app.get('/healthz', (c) => {
    const h = o.health();
    return c.json({ status: h.ok ? 'ok' : 'failing', mqtt: h.mqtt }, h.ok ? 200 : 503);
  });

  app.use('/api/*', async (c, next) => {
    const access = o.tokens.access(c.req.header('authorization'));
    if (access === undefined) {
      c.header('www-authenticate', 'Bearer realm="argos-hub"');
      return problem(c, 401, 'send Authorization: Bearer <ARGOS_HUB_TOKEN or ARGOS_HUB_READ_TOKEN>');
    }
    c.set('access', access);
    c.header('cache-control', 'no-store');
    await next();
  });

  app.get('/metrics', async (c) => {
    if (o.tokens.access(c.req.header('authorization')) === undefined) {
      c.header('www-authenticate', 'Bearer realm="argos-hub"');
      return problem(c, 401, 'send Authorization: Bearer <token> (Prometheus: authorization.credentials)');
    }
    return c.body(await o.registry.metrics(), 200, { 'content-type': o.registry.contentType });
  });

  app.get('/api/nodes', async (c) => c.json({ nodes: await o.store.nodes(o.clock.now()) }));

  app.get('/api/nodes/:node/commands', async (c) => c.json({ commands: await o.store.commands(c.req.param('node'), 50) }));

  app.post('/api/nodes/:node/commands', async (c) => {
    if (c.get('access') !== 'write') return problem(c, 403, 'the read-only token cannot send commands');
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return problem(c, 400, 'the body must be JSON: {"command":"allow","alert":"<id>"}, {"command":"allow","program":"<path>"}, {"command":"relearn"} or {"command":"status"}');
    }
    try {
      const command = await o.commander.send(c.req.param('node'), body);
      return c.json({ command }, 202);
    } catch (e) {
      if (e instanceof CommandError) return problem(c, e.status, e.message);
      throw e;
    }
  });

  app.get('/api/alerts', async (c) => {
    const q = alertQuery.safeParse(c.req.query());
    if (!q.success) return badQuery(c, q.error);
    const now = o.clock.now();
    const since = q.data.since === undefined ? undefined : parseSince(q.data.since, now);
    const before = q.data.before === undefined ? undefined : parseSince(q.data.before, now);
    if (q.data.since !== undefined && since === undefined) return problem(c, 400, 'since: use a duration such as 24h, an ISO time or epoch milliseconds');
    if (q.data.before !== undefined && before === undefined) return problem(c, 400, 'before: use an ISO time or epoch milliseconds');
    const alerts = await o.store.alerts({ node: q.data.node, program: q.data.program, kind: q.data.kind, since, before, limit: q.data.limit });
    return c.json({ alerts });
  });

  app.get('/api/alerts/:id', async (c) => {
    const a = await o.store.alert(c.req.param('id'));
    return a ? c.json(a) : problem(c, 404, 'no alert with this id');
  });

  app.get('/api/timeline', async (c) => {
    const q = timelineQuery.safeParse(c.req.query());
    if (!q.success) return badQuery(c, q.error);
    const now = o.clock.now();
    const since = parseSince(q.data.since, now);
    const bucket = parseDuration(q.data.bucket);
    if (since === undefined) return problem(c, 400, 'since: use a duration such as 24h, an ISO time or epoch milliseconds');
    if (bucket === undefined || bucket < 60_000) return problem(c, 400, 'bucket: a duration of at least 1m, such as 1h');
    if ((now - since) / bucket > 2000) return problem(c, 400, 'at most 2000 buckets: make bucket larger or since shorter');
    return c.json({ since, bucket, buckets: await o.store.timeline(since, bucket, q.data.node) });
  });

  app.get('/*', (c) => {
    const f = o.files(c.req.path);
    if (!f) return problem(c, 404, 'not found: the API is under /api (nodes, alerts, timeline), the dashboard at /');
    return c.body(new Uint8Array(f.body), 200, {
      'content-type': f.type,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      // Scripts and styles from this hub only: a host string can never run as code here.
      'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    });
  });

  return app;
}

