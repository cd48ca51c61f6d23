import { createHash, timingSafeEqual } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'
import { SIGNATURE_HEADER } from '../components/signature.js'
import { HttpError } from './problem.js'
import { allows, requiredRole, type Role, type TokenEntry } from './roles.js'

/** Who made a request: `actor` names them in the audit trail (`operator:3f2a…`, never the token); null role: a signed callback. */
export type Principal = { actor: string; role: Role | null }

const PRINCIPAL = 'harmonia.principal'

/** A component's callback: it may be signed with the component's secret instead of carrying a bearer token. */
const CALLBACK_PATH = /^\/api(?:\/v1)?\/executions\/[^/]+\/tasks\/[^/]+\/(?:complete|fail)$/

/** Who made the request (set by `authenticate`). */
export const principalOf = (c: Context): Principal | undefined => c.get(PRINCIPAL as never) as Principal | undefined

/** Whether the request proved a token that may send callbacks (or auth is off): a callback without one must be signed. */
export const isTrusted = (c: Context): boolean => {
  const role = principalOf(c)?.role
  return role !== null && role !== undefined && allows(role, 'operator')
}

/** Names who made the request for the audit trail once the route knows better (a callback's component). */
export const setActor = (c: Context, actor: string): void => {
  const principal = principalOf(c)
  c.set(PRINCIPAL as never, { actor, role: principal?.role ?? null } as never)
}

/**
 * Bearer-token auth with roles (API.md): every route but /health, /ready and the `isPublic` ones needs `Authorization: Bearer <token>`
 * (the event streams also accept `?token=`), and the token's role must allow the request, else 403 naming the role
 * needed. Tokens are compared in constant time (as fixed-length digests) and never logged. A signed component
 * callback passes on to its route, which checks the signature against the component's secret.
 */
export function authenticate(tokens: readonly TokenEntry[], isPublic: (path: string) => boolean = () => false): MiddlewareHandler {
  const known = tokens.map((t) => ({ ...t, full: hash(t.token) }))
  return async (c, next) => {
    const path = c.req.path
    if (known.length === 0) {
      c.set(PRINCIPAL as never, { actor: 'anonymous', role: 'admin' } satisfies Principal as never)
      return next()
    }
    if (path === '/health' || path === '/ready' || isPublic(path)) return next()
    const header = c.req.header('authorization') ?? ''
    const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim()
    const streaming = path.startsWith('/events/') || path.startsWith('/ws/')
    const token = bearer ?? (streaming ? c.req.query('token') : undefined)
    const entry = token === undefined ? undefined : find(known, token)
    if (entry) {
      // Set before the role check: a refusal is audited under the token that was refused.
      c.set(PRINCIPAL as never, { actor: `${entry.role}:${entry.id}`, role: entry.role } satisfies Principal as never)
      const needed = requiredRole(c.req.method, path)
      if (!allows(entry.role, needed)) {
        throw new HttpError(403, 'Forbidden', `this request needs the ${needed} role; the token has the ${entry.role} role`)
      }
      return next()
    }
    if (token === undefined && c.req.header(SIGNATURE_HEADER) !== undefined && CALLBACK_PATH.test(path)) {
      c.set(PRINCIPAL as never, { actor: 'component', role: null } satisfies Principal as never)
      return next()
    }
    c.header('WWW-Authenticate', 'Bearer realm="harmonia"')
    throw new HttpError(401, 'Unauthorized', token === undefined ? 'a bearer token is required' : 'the token is not valid')
  }
}

/** A fixed-length digest, so that comparing takes the same time whatever the token's length. */
const hash = (token: string): Buffer => createHash('sha256').update(token).digest()

/** The entry of `token`, compared in constant time against every configured token. */
function find<T extends { full: Buffer }>(known: readonly T[], token: string): T | undefined {
  const d = hash(token)
  let found: T | undefined
  for (const k of known) if (timingSafeEqual(k.full, d) && found === undefined) found = k
  return found
}
