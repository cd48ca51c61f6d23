import { Hono } from 'hono'
import type { UpgradeWebSocket } from 'hono/ws'
import type { Harmonia } from '../harmonia.js'
import { auditTrail } from './audit.js'
import { authenticate } from './auth.js'
import { rateLimiter, type RateLimit } from './rate-limit.js'
import { parseTokens } from './roles.js'
import { DEFAULT_BODY_LIMITS, type BodyLimits } from './body.js'
import { openApiDocument } from './openapi.js'
import { docsPage } from './docs-page.js'
import { uiRoutes } from './ui.js'
import { mcpRoutes } from './mcp.js'
import { routeNotFound } from './not-found.js'
import { problemResponse, toProblem } from './problem.js'
import { UnavailableError } from '../errors.js'
import type { RouteDeps } from './routes/common.js'
import { auditRoutes } from './routes/audit.routes.js'
import { callbackRoutes } from './routes/callbacks.routes.js'
import { signalRoutes } from './routes/signals.routes.js'
import { componentRoutes } from './routes/components.routes.js'
import { executionRoutes } from './routes/executions.routes.js'
import { checkpointRoutes, stateRoutes } from './routes/state.routes.js'
import { subscriptionRoutes } from './routes/subscriptions.routes.js'
import { templateRoutes } from './routes/templates.routes.js'
import { workflowRoutes } from './routes/workflows.routes.js'
import { sseRoutes } from './sse.js'
import { wsRoutes } from './ws.js'
import { VERSION } from '../version.js'
import { nodeRoutes } from './routes/nodes.routes.js'
import type { Logger } from '../logger.js'

export type AppOptions = {
  harmonia: Harmonia
  /** Requests per client and window (HARMONIA_RATE_LIMIT); none → no limit. */
  rateLimit?: RateLimit
  /** Bearer tokens, each `role:token` or a bare token (admin); none → no auth. */
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
  /** Serve /metrics without a token even when tokens are configured (HARMONIA_METRICS_PUBLIC=1). */
  metricsPublic?: boolean
}

/** The UI's shell and code: public, as they hold no data (the API behind them asks for the token). */
const isUiPath = (path: string) => path === '/' || path === '/ui' || path.startsWith('/ui/')

/** Seconds a client should wait before retrying a 503 (the database is unreachable; the pool reconnects on its own). */
const RETRY_AFTER = '5'

/** The Hono app: REST under /api and /api/v1, SSE, WebSocket, health, OpenAPI and docs (API.md). */
export function createApp(options: AppOptions) {
  const { harmonia } = options
  const limits: BodyLimits = { ...DEFAULT_BODY_LIMITS, ...options.limits }
  const deps: RouteDeps = { harmonia, limits }
  const version = options.version ?? VERSION

  const api = new Hono()
    .route('/workflows', workflowRoutes(deps))
    .route('/executions', executionRoutes(deps))
    .route('/executions', callbackRoutes(deps))
    .route('/executions', signalRoutes(deps))
    .route('/components', componentRoutes(deps))
    .route('/audit', auditRoutes(deps))
    .route('/nodes', nodeRoutes(deps))
    .route('/subscriptions', subscriptionRoutes(deps))
    .route('/templates', templateRoutes(deps))
    .route('/state', stateRoutes(deps))
    .route('/checkpoints', checkpointRoutes(deps))

  const app = new Hono()
  app.onError((error, c) => {
    const response = problemResponse(c, error)
    // 503 is an outage of a dependency (the database), not a server error: a warning, and the client may retry.
    if (response.status === 503)
      options.logger?.warn('request refused: unavailable', { method: c.req.method, path: c.req.path, error: String(error) })
    else if (response.status >= 500)
      options.logger?.error('request failed', { method: c.req.method, path: c.req.path, error: String(error) })
    if (response.status === 401) response.headers.set('WWW-Authenticate', 'Bearer realm="harmonia"')
    if (response.status === 503) response.headers.set('Retry-After', RETRY_AFTER)
    return response
  })
  app.notFound(routeNotFound(app))
  app.use('*', auditTrail(harmonia, options.logger))
  app.use('*', authenticate(parseTokens(options.tokens ?? []), (path) => isUiPath(path) || (options.metricsPublic === true && path === '/metrics')))
  if (options.rateLimit) app.use('*', rateLimiter(options.rateLimit))

  app.get('/health', (c) => {
    const hermes = options.hermes?.()
    return c.json({
      status: 'healthy',
      component: 'harmonia',
      version,
      port: options.port ?? null,
      database: harmonia.storeKind,
      node_id: harmonia.nodeId,
      active_executions: harmonia.activeExecutions,
      ...(hermes ? { registered: hermes.registered } : {}),
    })
  })
  app.get('/ready', async (c) => {
    const ok = options.ready ? await options.ready().catch(() => false) : true
    const status = { ready: ok, component: 'harmonia', database: harmonia.storeKind }
    if (ok) return c.json(status)
    // Not ready answers like every other 503 (problem+json, Retry-After), with the readiness fields as extensions.
    const problem = toProblem(new UnavailableError('the database cannot be reached'))
    return c.body(JSON.stringify({ ...problem, ...status }), 503, {
      'content-type': 'application/problem+json',
      'Retry-After': RETRY_AFTER,
    })
  })
  app.route('/api', api)
  app.route('/api/v1', api)

  app.route('/events', sseRoutes({ harmonia, keepAliveMs: options.keepAliveMs ?? 15_000 }))
  if (options.upgradeWebSocket) {
    app.route(
      '/ws',
      wsRoutes({ harmonia, upgradeWebSocket: options.upgradeWebSocket, ...(options.logger ? { logger: options.logger } : {}) }),
    )
  }
  app.get('/', (c) => c.redirect('/ui', 302))
  app.route('/ui', uiRoutes())
  app.route('/mcp', mcpRoutes((request, env) => app.fetch(request, env)))
  app.get('/metrics', async (c) => c.body(await harmonia.metrics.text(), 200, { 'content-type': harmonia.metrics.contentType }))
  app.get('/openapi.json', (c) => c.json(openApiDocument(version)))
  let docs: string | undefined
  app.get('/docs', (c) => c.html((docs ??= docsPage())))
  return app
}
