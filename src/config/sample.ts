// Renders `.env.sample` from the settings table, so the sample documents every variable.
import { SETTINGS } from './schema.js';

export function renderEnvSample(): string {
  const out = [
    '# Argos Edge configuration. Copy to .env (or /etc/argos/argos.env) and uncomment what you change.',
    '# Order of precedence: this file < the environment < command-line flags.',
    '# Durations: 500ms, 30s, 5m, 2h, 7d. Sizes: 512k, 100M, 2G. Empty = unset (the default applies).',
    '',
  ];
  for (const s of SETTINGS) {
    out.push(`# ${s.doc}`);
    if (s.env.length > 1) out.push(`# Also accepted: ${s.env.slice(1).join(', ')}.`);
    out.push(`#${s.env[0]}=${s.sample}`, '');
  }
  return out.join('\n');
}
