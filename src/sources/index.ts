// The event sources (DESIGN.md "Sources"); src/daemon/sources.ts picks one from the configuration.
export { SourceError } from './errors.js';
export { defaultPolicyPath } from './policy.js';
export { DEFAULT_MAX_LINE } from './lines.js';
export { ManagedTetragonSource, splitArgs } from './managed.js';
export { ExportFileSource } from './export-file.js';
export { TetraSource } from './tetra.js';
export { BpftraceSource } from './bpftrace.js';
export { createReplaySource } from './replay.js';
export { createStdinSource } from './stdin.js';
export { parseSpeed } from './stream.js';
