// The bpftrace program of the bpftrace source. Positional parameters: $1 = bpftrace's own
// pid, $2 = the daemon's pid (both left out, or every event they print would make more),
// $3 = trace only this process's descendants (0 = every process; recordings and tests use
// it to keep the rest of the machine out, in the kernel).
//
// Output, one line per event (numbers in decimal):
//   A <pid> <ktime> <length> <argv>                          arguments of the exec below it:
//                                                            argv's bytes (NUL-separated, at most
//                                                            ARGV_MAX of <length>) printed by %r
//   E <pid> <ktime> <ppid> <parent ktime> <uid> <filename>   exec
//   F <pid> <ktime> <child pid>                              fork or clone: the child runs the
//                                                            parent's program; printed from the
//                                                            child just before its first syscall
//                                                            (a thread's is never printed)
//   S <pid> <ktime> <syscall id>                             syscall entry
//   X <pid> <ktime> <exit code>                              exit of a thread-group leader
//   R ready                                                  once, when every probe is attached
// <ktime> identifies one exec of one process: the CLOCK_MONOTONIC ns of its exec, or of the
// task's start for processes that have not exec'd since bpftrace started (running before
// it, or forked without exec). It is looked up in the kernel for every event, so events
// from several CPUs cannot be attributed to the wrong exec whatever order they are read in.
/** The line the program prints once every probe is attached. */
export const READY_LINE = 'R ready';

/** Bytes of a process's argv captured in the kernel (bpftrace's BPFTRACE_STRLEN must be at least this). */
export const ARGV_MAX = 200;

export const BPFTRACE_PROGRAM = `
tracepoint:sched:sched_process_fork
/$3 == 0 || pid == $3 || @tree[pid]/
{
  if ($3 != 0) { @tree[args->child_pid] = 1; }
  $k = @exec[pid];
  if ($k == 0) { $k = curtask->group_leader->start_time; }
  // Printed by the child before its first syscall (below): on the child's CPU, so it is read
  // before that syscall, never after it (per-CPU buffers are read in no common order).
  @fpid[args->child_pid] = pid;
  @fkey[args->child_pid] = $k;
}

tracepoint:sched:sched_process_exec
/$3 == 0 || @tree[pid]/
{
  $t = nsecs;
  @exec[pid] = $t;
  $p = curtask->real_parent->tgid;
  $pk = @exec[$p];
  if ($pk == 0) { $pk = curtask->real_parent->group_leader->start_time; }
  // The new program's argv, read from its own memory while it exists for certain (a
  // short-lived process is gone before /proc could be read in user space).
  $mm = curtask->mm;
  $n = $mm->arg_end - $mm->arg_start;
  $m = $n;
  if ($m > ${ARGV_MAX}) { $m = ${ARGV_MAX}; }
  printf("A %d %llu %d %r\\n", pid, $t, $n, buf(uptr($mm->arg_start), $m));
  printf("E %d %llu %d %llu %d %s\\n", pid, $t, $p, $pk, uid, str(args->filename));
}

tracepoint:raw_syscalls:sys_enter
/pid != $1 && pid != $2 && ($3 == 0 || @tree[pid])/
{
  $f = @fpid[pid];
  if ($f != 0) {
    printf("F %d %llu %d\\n", $f, @fkey[pid], pid);
    delete(@fpid[pid]);
    delete(@fkey[pid]);
  }
  $k = @exec[pid];
  if ($k == 0) { $k = curtask->group_leader->start_time; }
  printf("S %d %llu %ld\\n", pid, $k, args->id);
}

tracepoint:sched:sched_process_exit
/pid != $1 && pid != $2/
{
  if (pid == tid && ($3 == 0 || @tree[pid])) {
    $k = @exec[pid];
    if ($k == 0) { $k = curtask->group_leader->start_time; }
    printf("X %d %llu %d\\n", pid, $k, curtask->exit_code);
    delete(@exec[pid]);
  }
  if ($3 != 0) { delete(@tree[tid]); }
  // A thread's id is never a pid: what its creation left is removed here.
  delete(@fpid[tid]);
  delete(@fkey[tid]);
}

// Attached last, so its first tick means every probe above is attached (bpftrace prints
// "Attaching N probes..." before it attaches them, and BEGIN fires before they are).
interval:ms:20
/@ready == 0/
{
  @ready = 1;
  printf("R ready\\n");
}

END
{
  clear(@exec);
  clear(@tree);
  clear(@ready);
}
`;
