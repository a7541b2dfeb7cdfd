// One hub for the fleet benchmark (test/bench/hub.ts), in a process of its own: `argos hub`
// built from the environment, plus a hook that times every stored alert from the moment the
// simulator published it (the alert's `time`) to the commit that stored it. Prints
// {"event":"ready"} once running, then {"event":"latencies","ms":[...]} every 250 ms;
// stops on SIGTERM.
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/core/logger.js';
import { buildHub } from '../../src/hub/index.js';

const latencies: number[] = [];
const config = loadConfig({ env: process.env });
const hub = buildHub({
  config,
  log: createLogger('warn'),
  sweep: false,
  onStored: (records) => {
    const now = Date.now();
    for (const r of records) if (r.kind === 'alert') latencies.push(now - Date.parse(r.alert.time));
  },
});
const flush = () => {
  if (latencies.length === 0) return;
  process.stdout.write(`${JSON.stringify({ event: 'latencies', ms: latencies.splice(0) })}\n`);
};
await hub.start();
process.stdout.write(`${JSON.stringify({ event: 'ready', port: hub.http.address()?.port })}\n`);
const timer = setInterval(flush, 250);
process.once('SIGTERM', () => {
  clearInterval(timer);
  void hub.stop().then(() => {
    flush();
    process.exit(0);
  });
});
