// Structured JSON logs to stderr (stdout is kept for command output).
import { pino, type Logger, type LoggerOptions } from 'pino';
import { systemClock, type Clock } from './time.js';
import { escapeJsonForTerminal, redactUrlCredentials } from './sanitize.js';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  'token',
  '*.password',
  '*.token',
  'config.mqttPassword',
  'config.ntfyToken',
  'config.mqttKey',
  'config.hubToken',
  'config.hubReadToken',
];

/**
 * What every log line goes through last: no URL credentials (whatever field or message they
 * hide in, e.g. a library's error text), and nothing a terminal would act on (pino already
 * escapes C0 controls; host strings can carry C1 controls and bidirectional overrides).
 */
export function safeLogLine(line: string): string {
  return escapeJsonForTerminal(redactUrlCredentials(line));
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    base: { service: 'argos' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: { streamWrite: safeLogLine },
  };
}

/** `fd` 2 = stderr (default). Synchronous, so nothing is lost at exit. */
export function createLogger(level: string, fd = 2): Logger {
  return pino(loggerOptions(level), pino.destination({ dest: fd, sync: true }));
}

/** A logger that drops everything (tests, `--quiet`). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Logs at most `perInterval` messages per `intervalMs` for one kind of problem, then
 * one summary of how many were suppressed. For bad input lines, which may come by the million.
 */
export class RateLimitedLog {
  private windowStart = 0;
  private count = 0;
  private suppressed = 0;

  constructor(
    private readonly log: Logger,
    private readonly perInterval = 10,
    private readonly intervalMs = 60_000,
    private readonly clock: Clock = systemClock,
  ) {}

  warn(obj: object, msg: string): void {
    const t = this.clock.monotonic();
    if (t - this.windowStart >= this.intervalMs) {
      if (this.suppressed > 0) this.log.warn({ suppressed: this.suppressed }, 'similar warnings suppressed');
      this.windowStart = t;
      this.count = 0;
      this.suppressed = 0;
    }
    if (this.count < this.perInterval) {
      this.count++;
      this.log.warn(obj, msg);
    } else {
      this.suppressed++;
    }
  }
}
