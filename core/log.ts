// Leveled diagnostics on stderr, podman's levels. The engine logs through this; the CLI sets the
// level from --log-level. Warnings print as `WARN[0000] message`, as podman's logrus does.

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'panic';
export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'panic'];

const RANK: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, fatal: 5, panic: 6 };
const TAG: Record<LogLevel, string> = {
  trace: 'TRAC', debug: 'DEBU', info: 'INFO', warn: 'WARN', error: 'ERRO', fatal: 'FATA', panic: 'PANI',
};

const started = Date.now();
let threshold: number = RANK.warn;
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');
const once = new Set<string>();

export function parseLogLevel(value: string): LogLevel | undefined {
  const v = value.toLowerCase() === 'warning' ? 'warn' : value.toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(v) ? (v as LogLevel) : undefined;
}

export function setLogLevel(level: LogLevel): void {
  threshold = RANK[level];
}

export function logLevel(): LogLevel {
  return LOG_LEVELS[threshold];
}

/** Redirects log lines (tests). */
export function setLogSink(fn: (line: string) => void): void {
  sink = fn;
}

function emit(level: LogLevel, msg: string): void {
  if (RANK[level] < threshold) return;
  const secs = String(Math.floor((Date.now() - started) / 1000)).padStart(4, '0');
  sink(`${TAG[level]}[${secs}] ${msg}`);
}

export const log = {
  trace: (msg: string) => emit('trace', msg),
  debug: (msg: string) => emit('debug', msg),
  info: (msg: string) => emit('info', msg),
  warn: (msg: string) => emit('warn', msg),
  error: (msg: string) => emit('error', msg),
  /** A warning printed once per process for a given key, however often it happens. */
  warnOnce: (key: string, msg: string) => {
    if (once.has(key)) return;
    once.add(key);
    emit('warn', msg);
  },
  enabled: (level: LogLevel) => RANK[level] >= threshold,
};
