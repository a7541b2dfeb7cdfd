// Syscall numbers to names per ABI, and 32-bit names to their 64-bit twins.
import type { Abi } from '../core/types.js';
import { SYSCALL_TABLES } from './tables.js';

function byNumber(rows: ReadonlyArray<readonly [number, string]>): readonly (string | undefined)[] {
  const names: (string | undefined)[] = [];
  for (const [id, name] of rows) names[id] = name;
  return Array.from(names);
}

/** Per ABI: index = syscall number, value = name (undefined where the ABI has no call). */
export const NAMES_BY_NUMBER: Readonly<Record<Abi, readonly (string | undefined)[]>> = {
  x64: byNumber(SYSCALL_TABLES.x64),
  i386: byNumber(SYSCALL_TABLES.i386),
  arm64: byNumber(SYSCALL_TABLES.arm64),
  arm32: byNumber(SYSCALL_TABLES.arm32),
};

/** Name of syscall `id` on `abi`, or undefined when that ABI has no such number. */
export function syscallName(abi: Abi, id: number): string | undefined {
  const names = NAMES_BY_NUMBER[abi] as readonly (string | undefined)[] | undefined;
  return names !== undefined && Number.isInteger(id) && id >= 0 ? names[id] : undefined;
}

const ID_TWINS = ['getuid', 'getgid', 'geteuid', 'getegid', 'setuid', 'setgid', 'setreuid', 'setregid', 'getgroups', 'setgroups', 'fchown', 'lchown', 'chown', 'setresuid', 'getresuid', 'setresgid', 'getresgid', 'setfsuid', 'setfsgid'];
const TIME64_TWINS = ['clock_getres', 'clock_nanosleep', 'utimensat', 'pselect6', 'ppoll', 'io_pgetevents', 'recvmmsg', 'mq_timedsend', 'mq_timedreceive', 'semtimedop', 'rt_sigtimedwait', 'futex', 'sched_rr_get_interval'];

/**
 * 32-bit names whose 64-bit twin is the same call (only the width of an argument or of a
 * struct field differs, or the arguments are reordered). Multiplexers (`socketcall`, `ipc`),
 * old variants with other semantics (`oldstat`, `select` on i386, `getrlimit` on i386,
 * `sigaction`) and calls with a different result layout (`getdents`) are left alone.
 */
export const TWIN_OF: ReadonlyMap<string, string> = new Map<string, string>([
  ['stat64', 'stat'],
  ['lstat64', 'lstat'],
  ['fstat64', 'fstat'],
  ['fstatat64', 'newfstatat'],
  ['statfs64', 'statfs'],
  ['fstatfs64', 'fstatfs'],
  ['mmap2', 'mmap'],
  ['fcntl64', 'fcntl'],
  ['_llseek', 'lseek'],
  ['truncate64', 'truncate'],
  ['ftruncate64', 'ftruncate'],
  ['sendfile64', 'sendfile'],
  ['fadvise64_64', 'fadvise64'],
  ['arm_fadvise64_64', 'fadvise64'],
  ['sync_file_range2', 'sync_file_range'],
  ['arm_sync_file_range', 'sync_file_range'],
  ['ugetrlimit', 'getrlimit'],
  ['_newselect', 'select'],
  ...ID_TWINS.map((n) => [`${n}32`, n] as [string, string]),
  ...TIME64_TWINS.map((n) => [`${n}_time64`, n] as [string, string]),
  ['clock_gettime64', 'clock_gettime'],
  ['clock_settime64', 'clock_settime'],
  ['clock_adjtime64', 'clock_adjtime'],
  ['timer_gettime64', 'timer_gettime'],
  ['timer_settime64', 'timer_settime'],
  ['timerfd_gettime64', 'timerfd_gettime'],
  ['timerfd_settime64', 'timerfd_settime'],
]);

/** The 64-bit twin of a 32-bit syscall name (`stat64` → `stat`), else the name itself. */
export function normaliseName(name: string): string {
  return TWIN_OF.get(name) ?? name;
}
