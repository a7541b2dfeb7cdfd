// Writes .env.sample from src/config/schema.ts (npm run gen:env-sample).
import { writeFileSync } from 'node:fs';
import { renderEnvSample } from '../src/config/sample.js';

writeFileSync(new URL('../.env.sample', import.meta.url), renderEnvSample());
