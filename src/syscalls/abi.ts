// The syscall ABI of this machine's native processes.
import type { Abi } from '../core/types.js';

/** The syscall ABI of a Node `process.arch`. */
export function nativeAbiOf(arch: string = process.arch): Abi {
  switch (arch) {
    case 'arm64':
      return 'arm64';
    case 'arm':
      return 'arm32';
    case 'ia32':
      return 'i386';
    default:
      return 'x64';
  }
}
