// The bpftrace program of the bpftrace source. Positional parameters: $1 = bpftrace's own
// pid, $2 = the daemon's pid (both left out, or every event they print would make more).
//
// Output, one line per event (numbers in decimal):
//   E <pid> <ktime> <ppid> <parent ktime> <uid> <filename>   exec
//   S <pid> <ktime> <syscall id>                             syscall entry
//   X <pid> <ktime> <exit code>                              exit of a thread-group leader
// <ktime> identifies one exec of one process: the CLOCK_MONOTONIC ns of its exec, or of the
// task's start for processes that have not exec'd since bpftrace started (running before
// it, or forked without exec). It is looked up in the kernel for every event, so events
// from several CPUs cannot be attributed to the wrong exec whatever order they are read in.
export const BPFTRACE_PROGRAM = `
tracepoint:sched:sched_process_exec
{
  $t = nsecs;
  @exec[pid] = $t;
  $p = curtask->real_parent->tgid;
  $pk = @exec[$p];
  if ($pk == 0) { $pk = curtask->real_parent->group_leader->start_time; }
  printf("E %d %llu %d %llu %d %s\\n", pid, $t, $p, $pk, uid, str(args->filename));
}

tracepoint:raw_syscalls:sys_enter
/pid != $1 && pid != $2/
{
  $k = @exec[pid];
  if ($k == 0) { $k = curtask->group_leader->start_time; }
  printf("S %d %llu %ld\\n", pid, $k, args->id);
}

tracepoint:sched:sched_process_exit
/pid == tid && pid != $1 && pid != $2/
{
  $k = @exec[pid];
  if ($k == 0) { $k = curtask->group_leader->start_time; }
  printf("X %d %llu %d\\n", pid, $k, curtask->exit_code);
  delete(@exec[pid]);
}

END
{
  clear(@exec);
}
`;
