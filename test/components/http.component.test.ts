import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { allowsHost } from '../../src/components/http-allow.js'
import { RetryableHttpError } from '../../src/components/http-failure.js'
import { createHttpComponent, httpComponent, type HttpResponseOutput } from '../../src/components/http.component.js'
import type { Component, HandlerContext } from '../../src/components/handler.js'
import { TerminalTaskError, toTaskFailure } from '../../src/errors.js'
import { createLogger } from '../../src/logger.js'

function context(signal = new AbortController().signal): HandlerContext {
  return {
    executionId: 'e',
    workflowId: 'w',
    taskId: 't',
    attempt: 1,
    idempotencyKey: 'e:t',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    deadline: null,
    awaitCallback: () => Promise.reject(new Error('no callback in this test')),
    waitForSignal: () => Promise.reject(new Error('no signal in this test')),
    now: () => Date.now(),
    signal,
    logger: createLogger({ level: 'silent' }),
    sleep: () => Promise.reject(new Error('http.request must not sleep')),
  }
}

/** Calls `request` as the task runner does: a synchronous throw becomes a rejection. */
const call = (input: unknown, options: { component?: Component; ctx?: HandlerContext } = {}) =>
  (async () => (await (options.component ?? httpComponent).request!(input, options.ctx ?? context())) as HttpResponseOutput)()

/** The rejection of `promise` (fails the test when it resolves). */
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`)
    },
    (error: unknown) => error,
  )

type Seen = { method: string; url: string; headers: IncomingHttpHeaders; body: string }

const servers: Server[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
})

/** A real server on 127.0.0.1: `respond` gets each request once its body is read; `requests` records them. */
async function serve(respond: (res: ServerResponse, seen: Seen, req: IncomingMessage) => void) {
  const requests: Seen[] = []
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      const seen = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() }
      requests.push(seen)
      respond(res, seen, req)
    })()
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, port, requests }
}

const sendJson = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(value))
}

/** Resolves when the client's connection to the server closes. */
const closed = (req: IncomingMessage) => new Promise<void>((resolve) => req.socket.once('close', () => resolve()))

describe('http.request: what is sent and what comes back', () => {
  it('sends the method, query (arrays repeat the key) and headers as given, and parses a JSON response', async () => {
    const server = await serve((res) => sendJson(res, 200, { items: [1, 2] }, { 'X-Trace-Id': 'abc' }))
    const output = await call({
      url: `${server.url}/items?page=1`,
      query: { tag: ['a', 'b'], q: 'x y', n: 2, on: true },
      headers: { 'X-Api-Key': 'k-1', Accept: 'application/json' },
    })
    expect(server.requests).toHaveLength(1)
    const [seen] = server.requests
    expect(seen).toMatchObject({ method: 'GET', url: '/items?page=1&tag=a&tag=b&q=x+y&n=2&on=true', body: '' })
    expect(seen!.headers).toMatchObject({ 'x-api-key': 'k-1', accept: 'application/json' })
    expect(output).toMatchObject({ status: 200, body: { items: [1, 2] } })
    expect(output.headers).toMatchObject({ 'content-type': 'application/json', 'x-trace-id': 'abc' })
  })

  it('parses +json types, keeps text as text, and keeps JSON that does not parse as text', async () => {
    const server = await serve((res, seen) => {
      const [type, text] = {
        '/problem': ['application/problem+json; charset=utf-8', '{"title":"t"}'],
        '/text': ['text/plain; charset=utf-8', '{"not":"parsed"}'],
        '/broken': ['application/json', '{"cut'],
      }[seen.url]!
      res.writeHead(200, { 'content-type': type })
      res.end(text)
    })
    expect((await call({ url: `${server.url}/problem` })).body).toEqual({ title: 't' })
    expect((await call({ url: `${server.url}/text` })).body).toBe('{"not":"parsed"}')
    expect((await call({ url: `${server.url}/broken` })).body).toBe('{"cut')
  })

  it('POSTs a JSON value as application/json and a string as text/plain; a given content type is kept', async () => {
    const server = await serve((res) => res.end())
    await call({ method: 'post', url: server.url, body: { a: [1, null] } })
    await call({ method: 'PUT', url: server.url, body: 'plain words' })
    await call({ method: 'POST', url: server.url, body: '<a/>', headers: { 'Content-Type': 'application/xml' } })
    await call({ method: 'PATCH', url: server.url, body: null })
    expect(server.requests.map((r) => [r.method, r.headers['content-type'], r.body])).toEqual([
      ['POST', 'application/json', '{"a":[1,null]}'],
      ['PUT', 'text/plain; charset=utf-8', 'plain words'],
      ['POST', 'application/xml', '<a/>'],
      ['PATCH', 'application/json', 'null'],
    ])
  })

  it('returns the response headers as a plain object with lowercase names; set-cookie as a list', async () => {
    const server = await serve((res) => {
      res.setHeader('X-Mixed-Case', 'Value')
      res.setHeader('Set-Cookie', ['a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT', 'b=2'])
      res.writeHead(201, { 'Content-Type': 'text/plain' })
      res.end('made')
    })
    const output = await call({ method: 'POST', url: server.url, body: 'x' })
    expect(output.status).toBe(201)
    expect(output.body).toBe('made')
    expect(output.headers).toMatchObject({ 'x-mixed-case': 'Value', 'content-type': 'text/plain' })
    expect(output.headers['set-cookie']).toEqual(['a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT', 'b=2'])
    expect(Object.keys(output.headers).every((name) => name === name.toLowerCase())).toBe(true)
  })
})

describe('http.request: redirects', () => {
  it('follows a 302 after a POST as a GET without the body, and a 307 with the method and body', async () => {
    const server = await serve((res, seen) => {
      if (seen.url === '/found') res.writeHead(302, { location: '/final' }).end()
      else if (seen.url === '/temporary') res.writeHead(307, { location: `/final?from=307` }).end()
      else sendJson(res, 200, { method: seen.method, body: seen.body })
    })
    const found = await call({ method: 'POST', url: `${server.url}/found`, body: { a: 1 } })
    expect(found).toMatchObject({ status: 200, body: { method: 'GET', body: '' } })
    const temporary = await call({ method: 'POST', url: `${server.url}/temporary`, body: { a: 1 } })
    expect(temporary).toMatchObject({ status: 200, body: { method: 'POST', body: '{"a":1}' } })
    expect(server.requests.map((r) => [r.method, r.url, r.headers['content-type']])).toEqual([
      ['POST', '/found', 'application/json'],
      ['GET', '/final', undefined],
      ['POST', '/temporary', 'application/json'],
      ['POST', '/final?from=307', 'application/json'],
    ])
  })

  it('keeps Authorization on the same origin and drops it for another origin', async () => {
    const other = await serve((res) => res.end('other'))
    const server = await serve((res, seen) => {
      if (seen.url === '/here') res.writeHead(301, { location: '/landing' }).end()
      else if (seen.url === '/away') res.writeHead(308, { location: `${other.url}/landing` }).end()
      else res.end('landed')
    })
    const headers = { Authorization: 'Bearer s3cret', 'X-Other': 'kept' }
    await call({ url: `${server.url}/here`, headers })
    await call({ url: `${server.url}/away`, headers })
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer s3cret', 'Bearer s3cret', 'Bearer s3cret'])
    expect(other.requests).toHaveLength(1)
    expect(other.requests[0]!.headers.authorization).toBeUndefined()
    expect(other.requests[0]!.headers['x-other']).toBe('kept')
  })

  it('fails for good after 20 redirects (too_many_redirects) and on a Location that is not http(s) (invalid_redirect)', async () => {
    const server = await serve((res, seen) => res.writeHead(302, { location: seen.url === '/ftp' ? 'ftp://x.test/' : '/loop' }).end())
    expect(await rejection(call({ url: `${server.url}/loop` }))).toMatchObject({ code: 'too_many_redirects' })
    expect(server.requests).toHaveLength(21)
    const error = await rejection(call({ url: `${server.url}/ftp` }))
    expect(error).toBeInstanceOf(TerminalTaskError)
    expect(error).toMatchObject({ code: 'invalid_redirect' })
  })
})

describe('http.request: classification', () => {
  it('503 is retryable, code http_503, with the message of a JSON error.message', async () => {
    const server = await serve((res) => sendJson(res, 503, { error: { message: 'database is down' } }))
    const error = await rejection(call({ url: server.url }))
    expect(error).toBeInstanceOf(RetryableHttpError)
    expect(toTaskFailure(error)).toEqual({ message: 'database is down', code: 'http_503', retryable: true })
    expect((error as RetryableHttpError).retryAfterMs).toBeUndefined()
  })

  it('400 fails for good with the message of `detail`; 404 with a text body fails for good with the status line', async () => {
    const server = await serve((res, seen) => {
      if (seen.url === '/bad') sendJson(res, 400, { title: 'Bad Request', detail: 'name is required' })
      else res.writeHead(404, { 'content-type': 'text/plain' }).end('nothing here')
    })
    const bad = await rejection(call({ method: 'POST', url: `${server.url}/bad`, body: {} }))
    expect(bad).toBeInstanceOf(TerminalTaskError)
    expect(toTaskFailure(bad)).toEqual({ message: 'name is required', code: 'http_400', retryable: false })
    const missing = await rejection(call({ url: `${server.url}/missing` }))
    expect(missing).toBeInstanceOf(TerminalTaskError)
    expect(toTaskFailure(missing)).toEqual({ message: 'HTTP 404 Not Found', code: 'http_404', retryable: false })
  })

  it('408, 429 and 500 are retryable; a JSON `message` is the message', async () => {
    const server = await serve((res, seen) => sendJson(res, Number(seen.url.slice(1)), { message: `said ${seen.url}` }))
    for (const status of [408, 429, 500]) {
      const failure = toTaskFailure(await rejection(call({ url: `${server.url}/${status}` })))
      expect(failure).toEqual({ message: `said /${status}`, code: `http_${status}`, retryable: true })
    }
  })

  it('attaches Retry-After of a 429 or 503 as retryAfterMs: delta seconds or an HTTP date; not for other statuses', async () => {
    const date = 'Wed, 21 Oct 2037 07:28:00 GMT'
    const server = await serve((res, seen) => {
      const [status, retryAfter] = ({ '/seconds': [429, '1'], '/date': [503, date], '/500': [500, '1'] } as const)[seen.url]!
      res.writeHead(status, { 'retry-after': retryAfter }).end()
    })
    const component = createHttpComponent({ now: () => Date.parse(date) - 2_500 })
    const seconds = await rejection(call({ url: `${server.url}/seconds` }, { component }))
    expect(seconds).toMatchObject({ code: 'http_429', retryAfterMs: 1000 })
    expect(await rejection(call({ url: `${server.url}/date` }, { component }))).toMatchObject({ code: 'http_503', retryAfterMs: 2500 })
    const other = await rejection(call({ url: `${server.url}/500` }, { component }))
    expect(other).toBeInstanceOf(RetryableHttpError)
    expect((other as RetryableHttpError).retryAfterMs).toBeUndefined()
  })

  it('a per-request timeout against a server that never answers is retryable, code timeout', async () => {
    const server = await serve(() => {})
    const error = await rejection(call({ url: server.url, timeout: 0.2 }))
    expect(toTaskFailure(error)).toMatchObject({ code: 'timeout', retryable: true })
  })

  it("aborting the context's signal rejects and closes the connection", async () => {
    let arrived!: (req: IncomingMessage) => void
    const request = new Promise<IncomingMessage>((resolve) => (arrived = resolve))
    const server = await serve((_res, _seen, req) => arrived(req))
    const controller = new AbortController()
    const pending = rejection(call({ url: server.url }, { ctx: context(controller.signal) }))
    const req = await request
    const connectionClosed = closed(req)
    controller.abort(new Error('execution canceled'))
    expect(await pending).toMatchObject({ message: 'execution canceled' })
    await connectionClosed
  })

  it('a refused connection is a retryable network failure', async () => {
    const server = await serve(() => {})
    servers.pop()!.close() // nothing listens on that port any more
    const error = await rejection(call({ url: server.url }))
    expect(error).toBeInstanceOf(RetryableHttpError)
    expect(toTaskFailure(error)).toMatchObject({ code: 'network', retryable: true })
    expect((error as Error).message).toContain('ECONNREFUSED')
  })
})

describe('http.request: the response size cap', () => {
  const component = createHttpComponent({ maxResponseBytes: 1024 })

  it('stops reading a body that passes the cap (response_too_large) and closes the connection', async () => {
    let connectionClosed!: Promise<void>
    const server = await serve((res, _seen, req) => {
      connectionClosed = closed(req)
      const chunk = Buffer.alloc(512, 'x')
      // Writes for as long as the client reads: an endless body.
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump)
      }
      pump()
    })
    const error = await rejection(call({ url: server.url }, { component }))
    expect(error).toBeInstanceOf(TerminalTaskError)
    expect(error).toMatchObject({ code: 'response_too_large' })
    await connectionClosed
  })

  it('fails on a content-length over the cap before reading the body; a body of exactly the cap passes', async () => {
    let connectionClosed!: Promise<void>
    const server = await serve((res, seen, req) => {
      if (seen.url === '/exact') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('y'.repeat(1024))
      connectionClosed = closed(req)
      // Headers only: a client that waited for these bytes would hang.
      res.writeHead(200, { 'content-length': '1000000' }).flushHeaders()
    })
    expect(await rejection(call({ url: `${server.url}/declared` }, { component }))).toMatchObject({ code: 'response_too_large' })
    await connectionClosed
    expect((await call({ url: `${server.url}/exact` }, { component })).body).toHaveLength(1024)
    // A HEAD response has no body, whatever its content-length says.
    expect(await call({ method: 'HEAD', url: `${server.url}/declared` }, { component })).toMatchObject({ status: 200, body: '' })
  })

  it('a failed response with a body past the cap keeps its classification, with the status line as message', async () => {
    const server = await serve((res) => sendJson(res, 502, { message: 'm'.repeat(2048) }))
    expect(toTaskFailure(await rejection(call({ url: server.url }, { component })))).toEqual({
      message: 'HTTP 502 Bad Gateway',
      code: 'http_502',
      retryable: true,
    })
  })
})

describe('http.request: the host allow-list', () => {
  const url = (text: string) => new URL(text)

  it('allowsHost: a host on any port, host:port exactly, *.x.y for subdomains only, any case', () => {
    const patterns = ['localhost', '10.0.0.5:8080', '*.tekton.local', 'API.Example.com', '[::1]:9000']
    expect(allowsHost(patterns, url('http://localhost:3000/x'))).toBe(true)
    expect(allowsHost(patterns, url('https://localhost/'))).toBe(true)
    expect(allowsHost(patterns, url('http://10.0.0.5:8080/'))).toBe(true)
    expect(allowsHost(patterns, url('http://10.0.0.5:8081/'))).toBe(false)
    expect(allowsHost(patterns, url('http://10.0.0.5/'))).toBe(false)
    expect(allowsHost(patterns, url('http://a.tekton.local/'))).toBe(true)
    expect(allowsHost(patterns, url('http://b.a.TEKTON.local:1/'))).toBe(true)
    expect(allowsHost(patterns, url('http://tekton.local/'))).toBe(false)
    expect(allowsHost(patterns, url('http://eviltekton.local/'))).toBe(false)
    expect(allowsHost(patterns, url('http://api.example.COM/'))).toBe(true)
    expect(allowsHost(patterns, url('http://example.com/'))).toBe(false)
    expect(allowsHost(patterns, url('http://[::1]:9000/'))).toBe(true)
    expect(allowsHost(patterns, url('http://[::1]:9001/'))).toBe(false)
    expect(allowsHost(['example.com:443'], url('https://example.com/'))).toBe(true)
    expect(allowsHost([], url('http://localhost/'))).toBe(false)
  })

  it('refuses a target the list does not allow (host_not_allowed naming the host) without calling it', async () => {
    const server = await serve((res) => res.end('ok'))
    const component = createHttpComponent({ allow: ['*.tekton.local', `127.0.0.1:${server.port + 1}`] })
    const error = await rejection(call({ url: `${server.url}/x` }, { component }))
    expect(error).toBeInstanceOf(TerminalTaskError)
    expect(error).toMatchObject({ code: 'host_not_allowed' })
    expect((error as Error).message).toContain(`127.0.0.1:${server.port}`)
    expect(server.requests).toHaveLength(0)
    const allowed = createHttpComponent({ allow: [`127.0.0.1:${server.port}`] })
    expect((await call({ url: server.url }, { component: allowed })).body).toBe('ok')
  })

  it('checks every redirect hop: an allowed host cannot send the call elsewhere', async () => {
    const server = await serve((res) => res.writeHead(302, { location: 'http://elsewhere.example/' }).end())
    const component = createHttpComponent({ allow: ['127.0.0.1'] })
    expect(await rejection(call({ url: server.url }, { component }))).toMatchObject({ code: 'host_not_allowed' })
    expect(server.requests).toHaveLength(1)
  })
})

describe('http.request: input', () => {
  it.each([
    ['input', 'not an object'],
    ['url', {}],
    ['url', { url: '/relative' }],
    ['url', { url: 'ftp://example.com/' }],
    ['url', { url: 'http://user:pw@example.com/' }],
    ['method', { url: 'http://x.test/', method: 'FETCH' }],
    ['method', { url: 'http://x.test/', method: 1 }],
    ['headers', { url: 'http://x.test/', headers: ['a'] }],
    ['headers.x-count', { url: 'http://x.test/', headers: { 'x-count': 1 } }],
    ['headers["bad name"]', { url: 'http://x.test/', headers: { 'bad name': 'v' } }],
    ['headers.x-a', { url: 'http://x.test/', headers: { 'x-a': 'line\nbreak' } }],
    ['query.a', { url: 'http://x.test/', query: { a: { b: 1 } } }],
    ['query.a[1]', { url: 'http://x.test/', query: { a: ['ok', null] } }],
    ['timeout', { url: 'http://x.test/', timeout: 0 }],
    ['timeout', { url: 'http://x.test/', timeout: 'soon' }],
    ['body', { url: 'http://x.test/', body: { a: 1 } }],
    ['input.header', { url: 'http://x.test/', header: { a: 'b' } }],
  ])('refuses a bad %s with invalid_input naming it', async (field, input) => {
    const error = await rejection(call(input))
    expect(error).toBeInstanceOf(TerminalTaskError)
    expect(error).toMatchObject({ code: 'invalid_input' })
    expect((error as Error).message).toContain(`http.request: ${field} `)
  })

  it('never echoes a header value in its message', async () => {
    const error = await rejection(call({ url: 'http://x.test/', headers: { authorization: 'Bearer s3cret\n' } }))
    expect((error as Error).message).not.toContain('s3cret')
  })
})
