// The managed source: the Tetragon executable and the tracing policy it is started with.
import { existsSync } from 'node:fs';
import { assetExists } from '../runtime/assets.js';
import { binaryCheck } from './binary.js';
import type { Check } from './check.js';

const TETRAGON_INSTALL = 'install Tetragon (https://tetragon.io/docs/installation/package/) or set ARGOS_TETRAGON_BIN to its path';
const SHIPPED_POLICY = 'config/tetragon/raw-syscalls.yaml';

export const tetragonCheck: Check = async (ctx) => {
  const { config } = ctx;
  if (config.source !== 'managed') return [];
  const binary = await binaryCheck(ctx, 'tetragon', config.tetragonBin, ['version'], TETRAGON_INSTALL);
  const policy = config.tetragonPolicy;
  if (policy !== undefined) {
    return [
      binary,
      existsSync(policy)
        ? { name: 'tetragon policy', status: 'ok', detail: policy }
        : { name: 'tetragon policy', status: 'fail', detail: `${policy} does not exist`, fix: 'set ARGOS_TETRAGON_POLICY to a TracingPolicy file, or unset it for the shipped one' },
    ];
  }
  return [
    binary,
    assetExists(SHIPPED_POLICY)
      ? { name: 'tetragon policy', status: 'ok', detail: `shipped ${SHIPPED_POLICY}` }
      : { name: 'tetragon policy', status: 'fail', detail: `${SHIPPED_POLICY} is missing from this installation`, fix: 'reinstall Argos, or set ARGOS_TETRAGON_POLICY' },
  ];
};
