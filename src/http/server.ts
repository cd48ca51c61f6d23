import { startOtelSdk } from '../services/otel-sdk.js'
import type { Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve, upgradeWebSocket } from '@hono/node-server'
import { createWebSocketInspector } from '@statelyai/inspect'
import { WebSocketServer } from 'ws'
import { createLogger, type Logger } from '../logger.js'
import { createHarmonia, type Harmonia, type HarmoniaOptions } from '../harmonia.js'
import { createApp } from './app.js'
import { rateLimitFromEnv, type RateLimit } from './rate-limit.js'
import { tokenEntriesFromEnv } from './roles.js'
import { startHermes, type Hermes } from './hermes.js'

import { VERSION } from '../version.js'

export type ServerOptions = {
  /** An engine to serve; otherwise one is created from `harmoniaOptions`. */
  harmonia?: Harmonia
  harmoniaOptions?: HarmoniaOptions
  /** Default HARMONIA_PORT, PORT, else 8007; 0 picks a free port. */
  port?: number
  hostname?: string
  /** Requests per client and window (default HARMONIA_RATE_LIMIT, off when unset). */
  rateLimit?: RateLimit
  /** Bearer tokens, `role:token` or bare (default: HARMONIA_API_TOKENS, comma-separated, and HARMONIA_API_TOKENS_FILE). */
  tokens?: string[]
  /** Body limit in bytes (default 1 MiB, or HARMONIA_BODY_LIMIT). */
  bodyLimit?: number
  logger?: Logger
  /** Hermes registry to register with (default HERMES_URL). */
  hermesUrl?: string
  /** How long a graceful close waits for running executions to finish, ms (default 10 s). */
  graceMs?: number
  /** SSE keep-alive comment interval, ms (default 15 s). */
  keepAliveMs?: number
  /** Serve /metrics without a token when tokens are configured (default: HARMONIA_METRICS_PUBLIC=1). */
  metricsPublic?: boolean
}

export type RunningServer = { url: string; port: number; harmonia: Harmonia; close(): Promise<void> }

const envPort = () => Number(process.env.HARMONIA_PORT ?? process.env.PORT ?? 8007)

/**
 * HARMONIA_RETENTION_DAYS=<days> (off when unset): finished executions that ended longer ago are deleted with all
 * their rows, at start and then hourly. Anything but a positive number stops the start with a message naming it.
 */
export function retentionFromEnv(raw = process.env.HARMONIA_RETENTION_DAYS): HarmoniaOptions['retention'] {
  if (raw === undefined || raw.trim() === '') return undefined
  const days = Number(raw)
  if (!Number.isFinite(days) || days <= 0)
    throw new Error(`HARMONIA_RETENTION_DAYS must be a positive number of days, got ${JSON.stringify(raw)}`)
  return { maxAgeSeconds: Math.round(days * 86_400) }
}
const envTokens = () => tokenEntriesFromEnv()

/** Starts Harmonia's HTTP server: REST, SSE and WebSocket on one port. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger()
  // HARMONIA_INSPECT=ws://host:port attaches the Stately inspector to every execution and task actor.
  const inspector = process.env.HARMONIA_INSPECT ? createWebSocketInspector({ url: process.env.HARMONIA_INSPECT }) : undefined
  const retention = retentionFromEnv()
  // Before the engine: it looks for a tracer provider when it is created.
  const stopTracing = await startOtelSdk(logger)
  const rateLimit = options.rateLimit ?? rateLimitFromEnv()
  const hermesUrl = options.hermesUrl ?? process.env.HERMES_URL
  let listening = 0
  const host = options.hostname && options.hostname !== '0.0.0.0' ? options.hostname : '127.0.0.1'
  // Components call back at HARMONIA_PUBLIC_URL, else at the address this server listens on.
  const publicUrl = () => process.env.HARMONIA_PUBLIC_URL || (listening === 0 ? undefined : `http://${host}:${listening}`)
  const harmonia =
    options.harmonia ??
    (await createHarmonia({
      logger,
      // A server knows its components: a workflow naming one no source knows is refused at create.
      strictComponents: true,
      publicUrl,
      ...(process.env.HARMONIA_CONFIG ? { config: process.env.HARMONIA_CONFIG } : {}),
      ...(hermesUrl ? { hermesUrl } : {}),
      ...(inspector ? { inspect: inspector.inspect } : {}),
      ...(retention ? { retention } : {}),
      ...options.harmoniaOptions,
    }))
  const wss = new WebSocketServer({ noServer: true })
  const hermesRef: { current?: Hermes } = {}
  const app = createApp({
    harmonia,
    tokens: options.tokens ?? envTokens(),
    ...(rateLimit ? { rateLimit } : {}),
    limits: { maxBytes: options.bodyLimit ?? Number(process.env.HARMONIA_BODY_LIMIT ?? 1024 * 1024) },
    logger,
    upgradeWebSocket,
    ...(options.keepAliveMs === undefined ? {} : { keepAliveMs: options.keepAliveMs }),
    metricsPublic: options.metricsPublic ?? process.env.HARMONIA_METRICS_PUBLIC === '1',
    get port() {
      return listening
    },
    hermes: () => hermesRef.current,
    ready: async () => {
      await harmonia.listWorkflows({ limit: 1 })
      return true
    },
  })
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve(
      { fetch: app.fetch, port: options.port ?? envPort(), hostname: options.hostname ?? '0.0.0.0', websocket: { server: wss } },
      () => resolve(s),
    )
  })
  listening = (server.address() as AddressInfo).port
  const hermes = hermesUrl ? startHermes({ url: hermesUrl, port: listening, version: VERSION, logger }) : undefined
  hermesRef.current = hermes
  let closing: Promise<void> | null = null
  return {
    url: `http://${host}:${listening}`,
    port: listening,
    harmonia,
    close() {
      closing ??= (async () => {
        // Stop accepting, let running executions settle for a grace period, then stop the engine: what has not
        // finished is resumed by the next start (the crash suite covers the same without the grace).
        const http = server as unknown as HttpServer
        const closed = new Promise<void>((resolve) => http.close(() => resolve()))
        http.closeIdleConnections()
        await hermes?.stop()
        await harmonia.drain(options.graceMs ?? 10_000)
        // Open event streams and keep-alive sockets would hold the server open: end them after the grace period.
        for (const client of wss.clients) client.close(1001, 'server shutting down')
        wss.close()
        http.closeAllConnections()
        await closed
        if (!options.harmonia) await harmonia.close()
        inspector?.stop()
        await stopTracing?.()
      })()
      return closing
    },
  }
}
