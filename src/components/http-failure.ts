import { TerminalTaskError } from '../errors.js'
import { isPlainObject } from '../json.js'

/**
 * How an HTTP exchange fails a task (API.md "The call"): 408, 429, 5xx, a timeout or a connection error may pass on a
 * later attempt; any other 4xx will not. Retryable failures are plain errors with a `code`, as `toTaskFailure` reads.
 */
export class RetryableHttpError extends Error {
  readonly code: string
  readonly status: number | undefined
  /**
   * The wait the server asked for with `Retry-After` (429 and 503 only), ms. Not part of the stored TaskFailure: the
   * engine reads it from the thrown error to stretch its backoff. The handler itself never sleeps on it.
   */
  readonly retryAfterMs: number | undefined
  constructor(message: string, options: { code: string; status?: number; retryAfterMs?: number; cause?: unknown }) {
    super(message, { cause: options.cause })
    this.name = 'RetryableHttpError'
    this.code = options.code
    this.status = options.status
    this.retryAfterMs = options.retryAfterMs
  }
}

/** Whether a status that is not a success deserves another attempt. */
export const isRetryableStatus = (status: number) => status === 408 || status === 429 || status >= 500

// A server's message is stored with the task and shown in logs and the UI: long enough to explain, never a page.
const MAX_MESSAGE_LENGTH = 1_000

/** The message a failed response carries: the JSON body's `error.message`, `detail` or `message`, else the status line. */
export function failureMessage(status: number, statusText: string, body: unknown): string {
  const fromBody = isPlainObject(body)
    ? [isPlainObject(body.error) ? body.error.message : undefined, body.detail, body.message].find(
        (m): m is string => typeof m === 'string' && m.trim() !== '',
      )
    : undefined
  const message = fromBody ?? `HTTP ${status} ${statusText}`.trim()
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}…` : message
}

/** `Retry-After` as ms from `now`: delta seconds or an HTTP date (a past date is 0); undefined when absent or malformed. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** The error a non-success response throws: retryable (with `retryAfterMs` when given) or terminal; code `http_<status>`. */
export function statusFailure(response: { status: number; statusText: string; headers: Headers }, body: unknown, now: number): Error {
  const { status } = response
  const message = failureMessage(status, response.statusText, body)
  const code = `http_${status}`
  if (!isRetryableStatus(status)) return new TerminalTaskError(message, { code })
  const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(response.headers.get('retry-after'), now) : undefined
  return new RetryableHttpError(message, { code, status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) })
}

/** What undici puts under `fetch failed`: the socket error (`ECONNREFUSED`, `UND_ERR_SOCKET`, …) with its message. */
function networkCause(error: unknown): { code?: string; message: string } {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error
  const code = (cause as { code?: unknown } | null)?.code
  const message = cause instanceof Error ? cause.message : String(cause)
  return typeof code === 'string' ? { code, message } : { message }
}

/**
 * The error a request that got no (complete) response throws. `target` names the request without its query string,
 * which may hold a key. A failure diagnosed already (a status, the cap) stands; a cancel or a task timeout passes the
 * engine's own reason on.
 */
export function requestFailure(
  error: unknown,
  target: string,
  signals: { outer: AbortSignal; timeout?: { signal: AbortSignal; ms: number } },
): Error {
  const { outer, timeout } = signals
  if (error instanceof TerminalTaskError || error instanceof RetryableHttpError) return error
  if (outer.aborted) return outer.reason instanceof Error ? outer.reason : new Error(`${target}: aborted`, { cause: outer.reason })
  if (timeout?.signal.aborted) {
    return new RetryableHttpError(`${target}: no complete response within ${timeout.ms / 1000} s`, { code: 'timeout', cause: error })
  }
  const cause = networkCause(error)
  const detail = cause.code && !cause.message.includes(cause.code) ? `${cause.message} (${cause.code})` : cause.message
  return new RetryableHttpError(`${target} failed: ${detail}`, { code: 'network', cause: error })
}
