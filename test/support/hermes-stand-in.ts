import { createServer, type IncomingMessage } from 'node:http'

/** One request the stand-in received, parsed. */
export type HermesRequest = {
  method: string
  path: string
  query: Record<string, string>
  /** The JSON body, the raw text when it is not JSON, null when empty. */
  body: any
  token: string | undefined
  /** The status the stand-in answered. */
  status: number
}

export type HermesRegistration = { componentId: string; token: string; body: any }

/**
 * A stand-in for Hermes, the Tekton service registry, on 127.0.0.1: the calls API.md documents (register, heartbeat,
 * unregister, component lookup) on a real node:http server. It records every request, can be stopped and started again
 * on the same port, and answers every request with one status on demand (`failWith(503)`).
 */
export async function startHermesStandIn() {
  const requests: HermesRequest[] = []
  /** What `GET /api/components/{name}` answers, by name: the tests add these. */
  const components = new Map<string, Record<string, unknown>>()
  /** Live registrations, by token. */
  const registrations = new Map<string, HermesRegistration>()
  let failing: number | null = null
  let registered = 0
  let port = 0

  function route(request: Omit<HermesRequest, 'status'>): [number, unknown] {
    const { method, path, token } = request
    const registration = token === undefined ? undefined : registrations.get(token)
    if (method === 'POST' && path === '/api/register') {
      registered++
      const added = { componentId: `c-${registered}`, token: `tok-${registered}`, body: request.body }
      registrations.set(added.token, added)
      return [200, { success: true, componentId: added.componentId, token: added.token }]
    }
    if (method === 'POST' && path === '/api/heartbeat') {
      return registration ? [200, { success: true }] : [401, { success: false, error: 'unknown token' }]
    }
    if (method === 'POST' && path === '/api/unregister') {
      if (!registration) return [401, { success: false, error: 'unknown token' }]
      if (request.query.component_id !== registration.componentId) return [400, { success: false, error: 'component_id query parameter' }]
      registrations.delete(registration.token)
      return [200, { success: true }]
    }
    const name = /^\/api\/components\/([^/]+)$/.exec(path)?.[1]
    if (method === 'GET' && name !== undefined) {
      const component = components.get(decodeURIComponent(name))
      return component ? [200, component] : [404, { error: 'component not found' }]
    }
    return [404, { error: 'no such route' }]
  }

  function parse(req: IncomingMessage, text: string): Omit<HermesRequest, 'status'> {
    const url = new URL(req.url ?? '/', 'http://hermes')
    let body: unknown = null
    try {
      body = text === '' ? null : JSON.parse(text)
    } catch {
      body = text
    }
    const token = req.headers['x-authentication-token']
    return {
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
      token: token as string | undefined,
    }
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const parsed = parse(req, Buffer.concat(chunks).toString('utf8'))
      const [status, body] = failing === null ? route(parsed) : [failing, { error: 'hermes is failing on purpose' }]
      requests.push({ ...parsed, status })
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    })
  })

  async function start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        port = (server.address() as { port: number }).port
        resolve()
      })
    })
  }

  async function stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeAllConnections()
    await closed
  }

  await start()
  return {
    /** http://127.0.0.1:<port>, the same across stop and start. */
    get url(): string {
      return `http://127.0.0.1:${port}`
    },
    requests,
    components,
    registrations,
    /** Lets `GET /api/components/{name}` find a component, as Hermes answers it. */
    add(name: string, component: Record<string, unknown>): void {
      components.set(name, { name, ...component })
    },
    /** Answers every request with `status` from now on; null goes back to normal. */
    failWith(status: number | null): void {
      failing = status
    },
    /** The requests to `path`, in order. */
    requestsTo(path: string): HermesRequest[] {
      return requests.filter((r) => r.path === path)
    },
    /** Closes the port (open connections too): Hermes is down. */
    stop,
    /** Listens again on the same port. */
    start,
  }
}
export type HermesStandIn = Awaited<ReturnType<typeof startHermesStandIn>>
