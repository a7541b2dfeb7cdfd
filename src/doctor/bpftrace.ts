// The bpftrace source: bpftrace is there and answers.
import { binaryCheck } from './binary.js';
import type { Check } from './check.js';

export const bpftraceCheck: Check = async (ctx) =>
  ctx.config.source === 'bpftrace' ? [await binaryCheck(ctx, 'bpftrace', ctx.config.bpftraceBin, ['--version'], 'apt-get install bpftrace, or set ARGOS_BPFTRACE_BIN')] : [];
