import type { Hono, NotFoundHandler } from 'hono'
import { HttpError, problemResponse } from './problem.js'

/** The order methods are listed in `Allow`; any other method a route declares follows, sorted. */
const ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
const rank = (method: string) => (ORDER.includes(method) ? ORDER.indexOf(method) : ORDER.length)

/**
 * The methods the app's routes serve on `path`, as `Allow` lists them (RFC 9110 §10.2.1): asked of the app's own
 * router, method by method, so the answer follows exactly the matching the app does. Middleware (`app.use`, method
 * `ALL`) serves no method of its own. HEAD is listed wherever GET is: Hono answers HEAD with the GET handler.
 */
export function allowedMethods(app: Hono, path: string): string[] {
  const declared = new Set(app.routes.map((route) => route.method).filter((method) => method !== 'ALL'))
  const allowed = [...declared].filter((method) => app.router.match(method, path)[0].some(([[, route]]) => route.method === method))
  if (allowed.includes('GET') && !allowed.includes('HEAD')) allowed.push('HEAD')
  return allowed.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
}

/**
 * The answer when no route served the request: 405 with `Allow` when the path exists for other methods, else 404.
 * A route that matched but let the request through (a WebSocket route without an upgrade) stays a 404 as well.
 */
export function routeNotFound(app: Hono): NotFoundHandler {
  return (c) => {
    const { method, path } = c.req
    const allowed = allowedMethods(app, path)
    if (allowed.length === 0 || allowed.includes(method)) {
      return problemResponse(c, new HttpError(404, 'Not Found', `no route for ${method} ${path}`))
    }
    const allow = allowed.join(', ')
    const detail = `${method} is not allowed on ${path}; it accepts ${allow}`
    return problemResponse(c, new HttpError(405, 'Method Not Allowed', detail, undefined, { headers: { allow } }))
  }
}
