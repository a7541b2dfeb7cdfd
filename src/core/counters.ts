// Plain numeric counters shared by the stages; read by /metrics, stats and summaries.
// A class with fields (not a Map) keeps the hot path to one property increment.

export class Counters {
  /** Event lines read from the source (every type, also ignored ones); not the malformed lines. */
  events = 0;
  /** Lines that were not events: not JSON, not an object, or an event of an unknown shape. */
  malformed = 0;
  /** Valid events of types we do not use (kprobes, throttle notices, ...). */
  ignored = 0;
  /** Syscall events turned into tokens. */
  syscalls = 0;
  /** Syscall ids missing from the ABI's table (mapped to the unknown token). */
  unknownSyscalls = 0;
  execs = 0;
  exits = 0;
  /** Distinct processes seen. */
  processes = 0;
  /** Processes evicted from the tracker because it was full. */
  evicted = 0;
  /** Windows cut from processes that went quiet (ARGOS_IDLE_FLUSH). */
  idleFlushes = 0;
  /** new_program alerts raised (first starts of programs the model never saw). */
  newPrograms = 0;
  windows = 0;
  /** Windows scored by the classifier. */
  classified = 0;
  /** Windows dropped because the classifier could not keep up. */
  shed = 0;
  /** Windows in batches the classifier failed on (not scored). */
  classifyFailed = 0;
  /** Verdicts at or above the threshold. */
  anomalies = 0;
  /** Alerts stored (after throttling). */
  alerts = 0;
  /** Anomalies folded into an earlier alert by throttling. */
  throttled = 0;
  /** Anomalies and new programs an operator's allowance covered (not alerted). */
  suppressed = 0;
  /** Restarts of a live source (Tetragon, tetra, bpftrace, tail). */
  sourceRestarts = 0;

  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this)) if (typeof v === 'number') out[k] = v;
    return out;
  }
}
