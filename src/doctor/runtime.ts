// Which runtime runs Argos, and whether ONNX Runtime's telemetry is off.
import { prepareOrt } from '../runtime/ort.js';
import { isBun, isCompiled } from '../runtime/platform.js';
import type { Check } from './check.js';

export const runtimeCheck: Check = async () => [
  {
    name: 'runtime',
    status: 'ok',
    detail: `${isBun() ? `Bun ${process.versions.bun}${isCompiled() ? ' (single binary)' : ''}` : `Node ${process.versions.node}`} on linux-${process.arch}; ORT telemetry ${prepareOrt().telemetry}`,
  },
];
