// The kernel interfaces tracing needs: tracefs with the raw_syscalls tracepoints, bpffs, BTF.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tracesKernel, type Check } from './check.js';

function mountOf(mounts: string, type: string): string | undefined {
  for (const line of mounts.split('\n')) {
    const [, where, fstype] = line.split(' ');
    if (fstype === type) return where;
  }
  return undefined;
}

export const tracefsCheck: Check = async ({ config, mounts }) => {
  const tracefs = mountOf(await mounts(), 'tracefs');
  if (tracefs !== undefined && existsSync(join(tracefs, 'events', 'raw_syscalls'))) return [{ name: 'tracefs', status: 'ok', detail: `${tracefs} (raw_syscalls tracepoints present)` }];
  return [
    {
      name: 'tracefs',
      status: tracesKernel(config) ? (config.source === 'bpftrace' ? 'fail' : 'warn') : 'skip',
      detail: tracefs ? `${tracefs} has no raw_syscalls tracepoints` : 'not mounted',
      fix: 'mount -t tracefs nodev /sys/kernel/tracing (Tetragon mounts it itself when it may)',
    },
  ];
};

export const bpffsCheck: Check = async ({ config, mounts }) => {
  const bpffs = mountOf(await mounts(), 'bpf');
  return [
    bpffs
      ? { name: 'bpffs', status: 'ok', detail: bpffs }
      : { name: 'bpffs', status: tracesKernel(config) ? 'warn' : 'skip', detail: 'not mounted', fix: 'mount -t bpf bpf /sys/fs/bpf (Tetragon mounts it itself when it may)' },
  ];
};

export const btfCheck: Check = async ({ config }) => [
  existsSync('/sys/kernel/btf/vmlinux')
    ? { name: 'kernel BTF', status: 'ok', detail: '/sys/kernel/btf/vmlinux' }
    : { name: 'kernel BTF', status: config.source === 'managed' ? 'warn' : 'skip', detail: 'missing', fix: 'Tetragon needs a kernel with CONFIG_DEBUG_INFO_BTF=y, or a BTF file (its --btf flag)' },
];
