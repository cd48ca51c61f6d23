import type { Context, MiddlewareHandler } from 'hono'
import { getConnInfo } from '@hono/node-server/conninfo'
import { principalOf } from './auth.js'
import { HttpError } from './problem.js'

/** `HARMONIA_RATE_LIMIT=<requests>/<seconds>`: at most that many requests per client in each window. */
export type RateLimit = { requests: number; seconds: number }

/** The limit HARMONIA_RATE_LIMIT sets (off when unset); anything but `<n>/<seconds>` stops the start naming it. */
export function rateLimitFromEnv(raw = process.env.HARMONIA_RATE_LIMIT): RateLimit | undefined {
  if (raw === undefined || raw.trim() === '') return undefined
  const match = /^\s*(\d+)\s*\/\s*(\d+(?:\.\d+)?)\s*s?\s*$/.exec(raw)
  const requests = Number(match?.[1])
  const seconds = Number(match?.[2])
  if (!match || requests < 1 || !(seconds > 0)) {
    throw new Error(`HARMONIA_RATE_LIMIT must be <requests>/<seconds>, such as 100/10, got ${JSON.stringify(raw)}`)
  }
  return { requests, seconds }
}

/** Who a limit applies to: the token (by its audit name), else the client's address (auth off). */
function clientOf(c: Context): string {
  const actor = principalOf(c)?.actor
  if (actor !== undefined && actor !== 'anonymous') return actor
  try {
    return `address:${getConnInfo(c).remote.address ?? 'unknown'}`
  } catch {
    return 'address:unknown'
  }
}

/**
 * A fixed window per client: past `requests` in the current window, 429 problem+json with `Retry-After` (the seconds
 * until the window ends). `/health` and `/ready` are not counted (probes must not be starved); an event stream is
 * one request however long it stays open. Windows of clients gone quiet are forgotten as the map grows.
 */
export function rateLimiter(limit: RateLimit, now: () => number = Date.now): MiddlewareHandler {
  const windowMs = limit.seconds * 1000
  const windows = new Map<string, { start: number; count: number }>()
  return async (c, next) => {
    if (c.req.path === '/health' || c.req.path === '/ready') return next()
    const key = clientOf(c)
    const at = now()
    let window = windows.get(key)
    if (!window || at - window.start >= windowMs) {
      if (windows.size > 10_000) for (const [k, w] of windows) if (at - w.start >= windowMs) windows.delete(k)
      window = { start: at, count: 0 }
      windows.set(key, window)
    }
    if (++window.count > limit.requests) {
      const retryAfter = Math.max(1, Math.ceil((window.start + windowMs - at) / 1000))
      throw new HttpError(
        429,
        'Too Many Requests',
        `more than ${limit.requests} requests in ${limit.seconds} s: retry in ${retryAfter} s`,
        undefined,
        {
          headers: { 'Retry-After': String(retryAfter) },
        },
      )
    }
    return next()
  }
}
