import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { HttpError } from './problem.js'

const digest = (token: string) => createHash('sha256').update(token).digest()

/**
 * Bearer-token auth (API.md): every route but /health and /ready needs `Authorization: Bearer <token>`; the event
 * streams also accept `?token=`. Tokens are compared in constant time (as fixed-length digests) and never logged.
 */
export function bearerAuth(tokens: readonly string[]): MiddlewareHandler {
  const known = tokens.filter((t) => t.length > 0).map(digest)
  return async (c, next) => {
    const path = c.req.path
    if (known.length === 0 || path === '/health' || path === '/ready') return next()
    const header = c.req.header('authorization') ?? ''
    const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim()
    const streaming = path.startsWith('/events/') || path.startsWith('/ws/')
    const token = bearer ?? (streaming ? c.req.query('token') : undefined)
    if (token !== undefined) {
      const d = digest(token)
      if (known.some((k) => timingSafeEqual(k, d))) return next()
    }
    c.header('WWW-Authenticate', 'Bearer realm="harmonia"')
    throw new HttpError(401, 'Unauthorized', token === undefined ? 'a bearer token is required' : 'the token is not valid')
  }
}
