// Writes .env.sample and the settings table in README.md from src/config/schema.ts
// (npm run gen:env-sample).
import { readFileSync, writeFileSync } from 'node:fs';
import { renderEnvSample, withSettingsTable } from '../src/config/sample.js';

writeFileSync(new URL('../.env.sample', import.meta.url), renderEnvSample());
const readme = new URL('../README.md', import.meta.url);
writeFileSync(readme, withSettingsTable(readFileSync(readme, 'utf8')));
