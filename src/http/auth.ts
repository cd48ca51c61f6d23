import { createHash, timingSafeEqual } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'
import { SIGNATURE_HEADER } from '../components/signature.js'
import { HttpError } from './problem.js'

const digest = (token: string) => createHash('sha256').update(token).digest()

/** A component's callback: it may be signed with the component's secret instead of carrying a bearer token. */
const CALLBACK_PATH = /^\/api(?:\/v1)?\/executions\/[^/]+\/tasks\/[^/]+\/(?:complete|fail)$/

const TRUSTED = 'harmonia.trusted'

/** Whether the request proved a bearer token (or auth is off): a callback without one must carry a signature. */
export const isTrusted = (c: Context): boolean => c.get(TRUSTED as never) === true

/**
 * Bearer-token auth (API.md): every route but /health and /ready needs `Authorization: Bearer <token>`; the event
 * streams also accept `?token=`. Tokens are compared in constant time (as fixed-length digests) and never logged.
 * A signed component callback passes on to its route, which checks the signature against the component's secret.
 */
export function bearerAuth(tokens: readonly string[]): MiddlewareHandler {
  const known = tokens.filter((t) => t.length > 0).map(digest)
  return async (c, next) => {
    const path = c.req.path
    if (known.length === 0) c.set(TRUSTED as never, true as never)
    if (known.length === 0 || path === '/health' || path === '/ready') return next()
    const header = c.req.header('authorization') ?? ''
    const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim()
    const streaming = path.startsWith('/events/') || path.startsWith('/ws/')
    const token = bearer ?? (streaming ? c.req.query('token') : undefined)
    if (token !== undefined) {
      const d = digest(token)
      if (known.some((k) => timingSafeEqual(k, d))) {
        c.set(TRUSTED as never, true as never)
        return next()
      }
    }
    if (token === undefined && c.req.header(SIGNATURE_HEADER) !== undefined && CALLBACK_PATH.test(path)) return next()
    c.header('WWW-Authenticate', 'Bearer realm="harmonia"')
    throw new HttpError(401, 'Unauthorized', token === undefined ? 'a bearer token is required' : 'the token is not valid')
  }
}
