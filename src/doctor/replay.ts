// The finite sources: the replay file exists; standard input needs nothing.
import { existsSync } from 'node:fs';
import type { Check } from './check.js';

export const replayCheck: Check = async ({ config }) => {
  if (config.source === 'stdin') return [{ name: 'source', status: 'ok', detail: 'events come on standard input' }];
  if (config.source !== 'replay') return [];
  const f = config.replayFile ?? '';
  return [f === '-' || existsSync(f) ? { name: 'replay file', status: 'ok', detail: f } : { name: 'replay file', status: 'fail', detail: `${f} does not exist`, fix: 'set ARGOS_REPLAY_FILE to a recorded Tetragon JSON-lines file' }];
};
