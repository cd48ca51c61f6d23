import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { UpgradeWebSocket } from 'hono/ws'
import type { Harmonia } from '../harmonia.js'
import type { ExecutionEvent } from '../model/events.js'
import { bearerAuth } from './auth.js'
import { DEFAULT_BODY_LIMITS, type BodyLimits } from './body.js'
import { executionEvents, resumeAfter } from './events.js'
import { openApiDocument, docsPage } from './openapi.js'
import { HttpError, problem, toProblem } from './problem.js'
import type { RouteDeps } from './routes/common.js'
import { executionRoutes } from './routes/executions.routes.js'
import { checkpointRoutes, stateRoutes } from './routes/state.routes.js'
import { templateRoutes } from './routes/templates.routes.js'
import { workflowRoutes } from './routes/workflows.routes.js'
import type { Logger } from '../logger.js'

export type AppOptions = {
  harmonia: Harmonia
  /** Bearer tokens; none → no auth. */
  tokens?: readonly string[]
  limits?: Partial<BodyLimits>
  logger?: Logger
  /** Node's WebSocket upgrade (from @hono/node-server); absent → no /ws routes (app.request() tests). */
  upgradeWebSocket?: UpgradeWebSocket
  /** Reported by /health. */
  port?: number
  version?: string
  /** Is the database reachable? (for /ready) */
  ready?: () => Promise<boolean>
  /** The Hermes registration, when HERMES_URL is set (reported by /health). */
  hermes?: () => { registered: boolean } | undefined
  /** Keep-alive comment interval for SSE, ms (default 15 s). */
  keepAliveMs?: number
}

/** The Hono app: REST under /api and /api/v1, SSE, WebSocket, health, OpenAPI and docs (API.md). */
export function createApp(options: AppOptions) {
  const { harmonia } = options
  const limits: BodyLimits = { ...DEFAULT_BODY_LIMITS, ...options.limits }
  const deps: RouteDeps = { harmonia, limits }
  const version = options.version ?? '0.1.0'

  const api = new Hono()
    .route('/workflows', workflowRoutes(deps))
    .route('/executions', executionRoutes(deps))
    .route('/templates', templateRoutes(deps))
    .route('/state', stateRoutes(deps))
    .route('/checkpoints', checkpointRoutes(deps))

  const app = new Hono()
  app.onError((error, c) => {
    const body = toProblem(error)
    // 503 is an outage of a dependency (the database), not a server error: a warning, and the client may retry.
    if (body.status === 503)
      options.logger?.warn('request refused: unavailable', { method: c.req.method, path: c.req.path, error: String(error) })
    else if (body.status >= 500) options.logger?.error('request failed', { method: c.req.method, path: c.req.path, error: String(error) })
    const response = problem(c, body)
    if (body.status === 401) response.headers.set('WWW-Authenticate', 'Bearer realm="harmonia"')
    if (body.status === 503) response.headers.set('Retry-After', '5')
    return response
  })
  app.notFound((c) => problem(c, toProblem(new HttpError(404, 'Not Found', `no route for ${c.req.method} ${c.req.path}`))))
  app.use('*', bearerAuth(options.tokens ?? []))

  app.get('/health', (c) => {
    const hermes = options.hermes?.()
    return c.json({
      status: 'healthy',
      component: 'harmonia',
      version,
      port: options.port ?? null,
      database: harmonia.storeKind,
      active_executions: harmonia.activeExecutions,
      ...(hermes ? { registered: hermes.registered } : {}),
    })
  })
  app.get('/ready', async (c) => {
    const ok = options.ready ? await options.ready().catch(() => false) : true
    return c.json({ ready: ok, component: 'harmonia', database: harmonia.storeKind }, ok ? 200 : 503)
  })
  app.route('/api', api)
  app.route('/api/v1', api)

  // Every execution's events, live, for dashboards: no replay, no end.
  app.get('/events/executions', (c) =>
    streamSSE(c, async (stream) => {
      const queue: ExecutionEvent[] = []
      let wake: (() => void) | null = null
      let open = true
      const unsubscribe = harmonia.subscribeAll((event) => {
        queue.push(event)
        wake?.()
      })
      stream.onAbort(() => {
        open = false
        wake?.()
      })
      const keepAlive = setInterval(() => {
        stream.write(': keep-alive\n\n').catch(() => {
          open = false
          wake?.()
        })
      }, options.keepAliveMs ?? 15_000)
      try {
        await stream.write(': connected\n\n')
        while (open) {
          while (queue.length > 0) {
            const event = queue.shift()!
            await stream.writeSSE({ id: `${event.execution_id}:${event.seq}`, event: event.type, data: JSON.stringify(event) })
          }
          if (open) await new Promise<void>((resolve) => (wake = resolve))
          wake = null
        }
      } finally {
        clearInterval(keepAlive)
        unsubscribe()
      }
    }),
  )

  app.get('/events/executions/:id', async (c) => {
    const id = c.req.param('id')
    await harmonia.getExecution(id) // 404 before the stream opens
    const after = resumeAfter(c.req.header('last-event-id'), c.req.query('after'))
    return streamSSE(c, async (stream) => {
      const abort = new AbortController()
      stream.onAbort(() => abort.abort())
      const keepAlive = setInterval(() => {
        stream.write(': keep-alive\n\n').catch(() => abort.abort())
      }, options.keepAliveMs ?? 15_000)
      try {
        for await (const event of executionEvents(harmonia, id, after, abort.signal)) {
          await stream.writeSSE({ id: String(event.seq), event: event.type, data: JSON.stringify(event) })
        }
      } finally {
        clearInterval(keepAlive)
      }
    })
  })

  if (options.upgradeWebSocket) {
    const upgrade = options.upgradeWebSocket
    app.get(
      '/ws/executions/:id',
      async (c, next) => {
        await harmonia.getExecution(c.req.param('id')) // 404 instead of an upgrade for an unknown id
        return next()
      },
      upgrade((c) => {
        const id = c.req.param('id')!
        const after = resumeAfter(undefined, c.req.query('after'))
        const abort = new AbortController()
        return {
          onOpen: (_event, ws) => {
            void (async () => {
              try {
                for await (const event of executionEvents(harmonia, id, after, abort.signal)) ws.send(JSON.stringify(event))
                ws.close(1000, 'execution ended')
              } catch (error) {
                options.logger?.error('websocket stream failed', { execution_id: id, error: String(error) })
                ws.close(1011, 'internal error')
              }
            })()
          },
          onClose: () => abort.abort(),
          onError: () => abort.abort(),
        }
      }),
    )
  }

  app.get('/openapi.json', (c) => c.json(openApiDocument(version)))
  app.get('/docs', (c) => c.html(docsPage()))
  return app
}
