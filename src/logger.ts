import { pino, stdTimeFunctions, type DestinationStream, type Logger as PinoLogger } from 'pino'
import { Writable } from 'node:stream'
import pretty from 'pino-pretty'

/**
 * The structured logger of every layer: pino, one JSON line per record on stderr (stdout stays free for what a
 * command prints), readable lines through pino-pretty when stderr is a terminal. Fields that can hold credentials
 * are redacted wherever they appear one or two levels deep, so a secret passed by mistake never reaches a log.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'
export type Logger = {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
  child(fields: Record<string, unknown>): Logger
}

export type LoggerOptions = {
  /** Default: HARMONIA_LOG_LEVEL, else `warn`. */
  level?: LogLevel
  /** Readable lines instead of JSON (default: HARMONIA_LOG_FORMAT=pretty|json, else whether stderr is a terminal). */
  pretty?: boolean
  /** Where lines go (default stderr); each call receives one line. */
  write?: (line: string) => void
}

const SECRET_FIELDS = ['secret', 'token', 'password', 'signature', 'authorization', 'cookie', 'api_key', 'apiKey']
const SIGNATURE_HEADERS = ['"x-harmonia-signature"', '"x-authentication-token"']

/** pino redaction paths: each secret field at the top, one level down and in a `headers` object. */
export const REDACTED_PATHS = [
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `headers.${f}`, `*.headers.${f}`]),
  ...SIGNATURE_HEADERS.flatMap((h) => [`headers[${h}]`, `*.headers[${h}]`]),
]

const LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error', 'silent']

function envLevel(): LogLevel {
  const raw = process.env.HARMONIA_LOG_LEVEL?.toLowerCase()
  return raw !== undefined && LEVELS.includes(raw) ? (raw as LogLevel) : 'warn'
}

function envPretty(): boolean {
  const format = process.env.HARMONIA_LOG_FORMAT
  return format ? format === 'pretty' : process.stderr.isTTY === true
}

function destination(options: LoggerOptions, readable: boolean): DestinationStream {
  const { write } = options
  if (readable) {
    return pretty({
      sync: true,
      colorize: write === undefined && process.stderr.isTTY === true,
      messageKey: 'message',
      translateTime: 'HH:MM:ss.l',
      singleLine: true,
      ignore: 'pid,hostname',
      destination: write ? lineStream(write) : 2,
    })
  }
  if (write) return { write: (line: string) => write(line.replace(/\n$/, '')) }
  return pino.destination({ dest: 2, sync: true })
}

/** A stream that hands each chunk (one record) to `write`, without its newline. */
function lineStream(write: (line: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      write(String(chunk).replace(/\n$/, ''))
      done()
    },
  })
}

/** A logger at or above `level`; see LoggerOptions for the defaults. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const readable = options.pretty ?? envPretty()
  const root = pino(
    {
      level: options.level ?? envLevel(),
      base: undefined,
      messageKey: 'message',
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
    },
    destination(options, readable),
  )
  return wrap(root)
}

function wrap(log: PinoLogger): Logger {
  return {
    debug: (message, fields) => log.debug(fields ?? {}, message),
    info: (message, fields) => log.info(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
    error: (message, fields) => log.error(fields ?? {}, message),
    child: (fields) => lazyChild(log, fields),
  }
}

/**
 * A child made on its first use: every task attempt gets one (task-runner.ts) and most never log, while pino's
 * `child` serialises and redacts the bindings at once — measured at ~2% of the engine's CPU on noop chains.
 */
function lazyChild(log: PinoLogger, fields: Record<string, unknown>): Logger {
  let made: Logger | undefined
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, more?: Record<string, unknown>): void => {
      if (log.isLevelEnabled(level)) (made ??= wrap(log.child(fields)))[level](message, more)
    }
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => lazyChild(log, { ...fields, ...more }),
  }
}
