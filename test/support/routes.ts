import { upgradeWebSocket } from '@hono/node-server'
import type { Harmonia } from '../../src/harmonia.js'
import { createApp } from '../../src/http/app.js'

/** One route the app serves: its method and its Hono path pattern (`/api/v1/executions/:id/pause`). */
export type AppRoute = { method: string; path: string }

/**
 * Every route of the app, read from the app itself (with WebSocket support, as startServer builds it): a route added
 * to src/http is in this list without anyone adding it to a test. Middleware (`ALL`) is left out.
 */
export function appRoutes(harmonia: Harmonia): AppRoute[] {
  const routes = new Map<string, AppRoute>()
  for (const { method, path } of createApp({ harmonia, upgradeWebSocket }).routes) {
    if (method !== 'ALL') routes.set(`${method} ${path}`, { method, path })
  }
  return [...routes.values()]
}

/**
 * A concrete path for a route pattern: each `:param` is replaced by `value(collection, param)`, where `collection` is
 * the segment before it (`executions` for `/executions/:id`, `tasks` for `/tasks/:taskId`), URI-encoded.
 */
export function fillRoute(path: string, value: (collection: string, param: string) => string): string {
  const segments = path.split('/')
  return segments
    .map((segment, i) => (segment.startsWith(':') ? encodeURIComponent(value(segments[i - 1] ?? '', segment.slice(1))) : segment))
    .join('/')
}

/** The path below `/api` or `/api/v1` (`/executions/:id`), or the path itself for routes outside the API. */
export const apiRest = (path: string): string => /^\/api(?:\/v1)?(\/.*)$/.exec(path)?.[1] ?? path
