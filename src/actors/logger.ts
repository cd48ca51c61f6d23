/** A small structured logger: one JSON line per record on stderr. Secrets are never passed to it. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'
export type Logger = {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
  child(fields: Record<string, unknown>): Logger
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

/** One line for a person at a terminal: `12:00:01.123 INFO message key=value`. */
function readable(record: Record<string, unknown>): string {
  const { time, level, message, ...fields } = record
  const rest = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ')
  return `${String(time).slice(11, 23)} ${String(level).toUpperCase().padEnd(5)} ${String(message)}${rest ? ` ${rest}` : ''}`
}

/**
 * A logger at or above `level` (default: HARMONIA_LOG_LEVEL, else warn): JSON lines (one record each), or a readable
 * line when stderr is a terminal (HARMONIA_LOG_FORMAT=json|pretty overrides).
 */
export function createLogger(
  level: LogLevel = (process.env.HARMONIA_LOG_LEVEL as LogLevel | undefined) ?? 'warn',
  base: Record<string, unknown> = {},
  write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Logger {
  const threshold = ORDER[level] ?? ORDER.warn
  const pretty = process.env.HARMONIA_LOG_FORMAT ? process.env.HARMONIA_LOG_FORMAT === 'pretty' : process.stderr.isTTY === true
  const log = (lvl: Exclude<LogLevel, 'silent'>) => (message: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < threshold) return
    const record = { time: new Date().toISOString(), level: lvl, message, ...base, ...fields }
    write(pretty ? readable(record) : JSON.stringify(record))
  }
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (fields) => createLogger(level, { ...base, ...fields }, write),
  }
}
