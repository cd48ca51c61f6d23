import { createHmac } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A remote component for tests: a real node:http server on 127.0.0.1 (port 0) that answers the call protocol of
 * API.md "The call" as each test scripts it, and records every action call as received (headers and raw body).
 */

/** One `POST /api/actions/{action}` as the component received it. */
export type ComponentCall = {
  method: string
  path: string
  action: string
  headers: IncomingHttpHeaders
  /** The body exactly as sent: what a signature is computed over. */
  raw: string
  body: any
}

export type Reply = { status: number; body?: unknown; headers?: Record<string, string> }

export type ComponentServerOptions = {
  /** The answer to the n-th action call (0-based); default 200 `{ output: null }`. Never called for /health. */
  action?: (call: ComponentCall, n: number) => Reply | Promise<Reply>
  /** The answer to `GET /health`; default 200 `{ status: "healthy" }`. */
  health?: () => Reply
}

export type ComponentServer = { url: string; calls: ComponentCall[]; healthChecks: number; close(): Promise<void> }

const open: Server[] = []

/** Closes every component server the test started (call it in afterEach). */
export async function closeComponentServers(): Promise<void> {
  await Promise.all(
    open.splice(0).map(async (server) => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }),
  )
}

function send(res: import('node:http').ServerResponse, reply: Reply): void {
  const json = reply.body === undefined ? '' : JSON.stringify(reply.body)
  res.writeHead(reply.status, { ...(json ? { 'content-type': 'application/json' } : {}), ...reply.headers })
  res.end(json)
}

/** Starts a component server; closed by closeComponentServers (or its own close). */
export async function startComponentServer(options: ComponentServerOptions = {}): Promise<ComponentServer> {
  const calls: ComponentCall[] = []
  const state = { healthChecks: 0 }
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      const raw = Buffer.concat(chunks).toString('utf8')
      const path = req.url ?? '/'
      if (req.method === 'GET' && path === '/health') {
        state.healthChecks++
        return send(res, options.health?.() ?? { status: 200, body: { status: 'healthy' } })
      }
      const action = /^\/api\/actions\/([^/?]+)$/.exec(path)?.[1]
      if (req.method !== 'POST' || action === undefined) return send(res, { status: 404, body: { error: { message: 'not found' } } })
      let body: unknown = undefined
      try {
        body = JSON.parse(raw)
      } catch {
        body = undefined
      }
      const call: ComponentCall = { method: req.method, path, action: decodeURIComponent(action), headers: req.headers, raw, body }
      const n = calls.push(call) - 1
      try {
        send(res, await (options.action?.(call, n) ?? { status: 200, body: { output: null } }))
      } catch (error) {
        send(res, { status: 500, body: { error: { message: String(error) } } })
      }
    })()
  })
  open.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    get healthChecks() {
      return state.healthChecks
    },
    async close() {
      const i = open.indexOf(server)
      if (i >= 0) open.splice(i, 1)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** A URL where nothing listens: a port that was free a moment ago. */
export async function unusedUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}

/** `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, computed here with node:crypto (not with src/). */
export const hmac = (secret: string, timestamp: string | number, body: string) =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`

/** The two signature headers of a callback signed at `nowSeconds` (default: the wall clock). */
export function signed(secret: string, body: string, nowSeconds = Math.floor(Date.now() / 1000)): Record<string, string> {
  return { 'X-Harmonia-Timestamp': String(nowSeconds), 'X-Harmonia-Signature': hmac(secret, nowSeconds, body) }
}
