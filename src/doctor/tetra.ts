// The tetra source: the tetra CLI is there and answers.
import { binaryCheck } from './binary.js';
import type { Check } from './check.js';

export const tetraCheck: Check = async (ctx) =>
  ctx.config.source === 'tetra' ? [await binaryCheck(ctx, 'tetra', ctx.config.tetraBin, ['version'], 'install the tetra CLI (it comes with Tetragon) or set ARGOS_TETRA_BIN')] : [];
