// The Ntfy server answers its health endpoint.
import { guarded, type Check } from './check.js';

async function ntfyHealth(server: string, timeoutMs: number): Promise<string> {
  const url = `${server.replace(/\/+$/, '')}/v1/health`;
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  await res.body?.cancel();
  if (res.status >= 500) throw new Error(`${url} answered ${res.status}`);
  return `${server} answers (HTTP ${res.status})`;
}

export const ntfyCheck: Check = async ({ config, timeoutMs }) => {
  if (!config.ntfyTopic) return [{ name: 'ntfy', status: 'skip', detail: 'ARGOS_NTFY_TOPIC is not set' }];
  return [await guarded('ntfy', () => ntfyHealth(config.ntfyServer, timeoutMs), `check ARGOS_NTFY_SERVER (${config.ntfyServer}) and the network; notifications wait in the database meanwhile`, timeoutMs + 1000)];
};
