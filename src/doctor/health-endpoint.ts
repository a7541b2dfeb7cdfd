// The /healthz address: free, or a running Argos answers on it.
import type { Check, DoctorCheck } from './check.js';

async function healthEndpoint(address: string, timeoutMs: number): Promise<DoctorCheck> {
  const name = 'health endpoint';
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address);
  if (!m) return { name, status: 'fail', detail: `${address} is not HOST:PORT`, fix: 'set ARGOS_HTTP_ADDRESS to e.g. 127.0.0.1:9464, or empty' };
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  try {
    const res = await fetch(`http://${where}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json().catch(() => undefined)) as { status?: string } | undefined;
    if (body?.status) return { name, status: body.status === 'ok' ? 'ok' : 'warn', detail: `a running Argos answers on ${where}: ${body.status}`, fix: body.status === 'ok' ? undefined : `curl http://${where}/healthz shows which part` };
    return { name, status: 'warn', detail: `something else answers on ${where} (HTTP ${res.status})`, fix: 'set ARGOS_HTTP_ADDRESS to a free port' };
  } catch {
    return { name, status: 'ok', detail: `${where} is free for /healthz and /metrics (no daemon running)` };
  }
}

export const healthEndpointCheck: Check = async ({ config, timeoutMs }) => (config.httpAddress ? [await healthEndpoint(config.httpAddress, timeoutMs)] : []);
