/**
 * Auth (issue 4, "Auth"; API.md "Conventions"): with tokens configured, every route of API.md — under /api and
 * /api/v1, the event streams, /openapi.json and /docs — answers 401 problem+json without a token and with a wrong
 * one; /health and /ready stay open; `Authorization: Bearer` works everywhere; SSE and WebSocket also take `?token=`;
 * an unauthenticated WebSocket upgrade is refused with 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createLogger } from '../../src/logger.js'
import type { Component } from '../../src/components/handler.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import type { ExecutionEvent } from '../../src/model/events.js'
import { deferred } from '../support/harness.js'

const TOKENS = ['first-secret-token', 'second-secret-token']
const [TOKEN, OTHER_TOKEN] = TOKENS as [string, string]

type Ids = { workflow: string; execution: string; template: string; checkpoint: string; deletable: string }
type Route = { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string; body?: (ids: Ids) => unknown }

const workflowBody = { name: 'auth', tasks: [{ id: 'a', component: 'harmonia', action: 'echo', input: { x: 1 } }] }

/** Every REST route of API.md, relative to /api (and /api/v1). `{id}` placeholders are filled from fixtures. */
const API_ROUTES: Route[] = [
  { method: 'POST', path: '/workflows', body: () => workflowBody },
  { method: 'GET', path: '/workflows' },
  { method: 'GET', path: '/workflows/{workflow}' },
  { method: 'PUT', path: '/workflows/{workflow}', body: () => workflowBody },
  { method: 'DELETE', path: '/workflows/{deletable}' },
  { method: 'POST', path: '/executions', body: (ids) => ({ workflow_id: ids.workflow }) },
  { method: 'GET', path: '/executions' },
  { method: 'GET', path: '/executions/{execution}' },
  { method: 'POST', path: '/executions/{execution}/cancel' },
  { method: 'POST', path: '/executions/{execution}/pause' },
  { method: 'POST', path: '/executions/{execution}/resume' },
  { method: 'POST', path: '/executions/{execution}/rerun' },
  { method: 'GET', path: '/executions/{execution}/history' },
  { method: 'POST', path: '/templates', body: (ids) => ({ name: 't', workflow_definition_id: ids.workflow }) },
  { method: 'GET', path: '/templates' },
  { method: 'GET', path: '/templates/{template}' },
  { method: 'POST', path: '/templates/{template}/instantiate', body: () => ({ parameter_values: {} }) },
  { method: 'GET', path: '/state/{execution}' },
  { method: 'PUT', path: '/state/{execution}', body: () => ({ state: { k: 1 } }) },
  { method: 'POST', path: '/checkpoints', body: (ids) => ({ execution_id: ids.execution }) },
  { method: 'GET', path: '/checkpoints' },
  { method: 'GET', path: '/checkpoints/{checkpoint}' },
  { method: 'POST', path: '/checkpoints/{checkpoint}/restore' },
]

/** Every protected route: /api, /api/v1, the streams, the spec and the docs. */
const PROTECTED: Route[] = [
  ...API_ROUTES.map((r) => ({ ...r, path: `/api${r.path}` })),
  ...API_ROUTES.map((r) => ({ ...r, path: `/api/v1${r.path}` })),
  { method: 'GET', path: '/events/executions' },
  { method: 'GET', path: '/events/executions/{execution}' },
  { method: 'GET', path: '/ws/executions/{execution}' },
  { method: 'GET', path: '/openapi.json' },
  { method: 'GET', path: '/docs' },
]

const fill = (path: string, ids: Ids) => path.replace(/\{(\w+)\}/g, (_, name: keyof Ids) => ids[name])

/** Bad credentials: none, a wrong token, a near miss, another scheme, and tokens where REST does not take them. */
const BAD_CREDENTIALS: { name: string; headers: Record<string, string>; query?: string }[] = [
  { name: 'no token', headers: {} },
  { name: 'a wrong token', headers: { authorization: 'Bearer not-the-token' } },
  { name: 'a prefix of a token', headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}` } },
  { name: 'a token with a suffix', headers: { authorization: `Bearer ${TOKEN}x` } },
  { name: 'a token in another case', headers: { authorization: `Bearer ${TOKEN.toUpperCase()}` } },
  { name: 'both tokens joined', headers: { authorization: `Bearer ${TOKEN},${OTHER_TOKEN}` } },
  { name: 'Basic auth with the token', headers: { authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` } },
  { name: 'the bare token', headers: { authorization: TOKEN } },
  { name: 'an empty bearer', headers: { authorization: 'Bearer ' } },
  { name: 'the token in another header', headers: { 'x-api-token': TOKEN } },
]

function testComponent(gate: Promise<void>): Component {
  return { wait: () => gate.then(() => ({ released: true })) }
}

describe('auth with tokens configured', () => {
  let server: RunningServer
  let ids: Ids
  const gate = deferred()
  const logged: string[] = []

  const request = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) =>
    fetch(server.url + path, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  const authed = async (method: string, path: string, body?: unknown) => {
    const response = await request(method, path, { authorization: `Bearer ${TOKEN}` }, body)
    const text = await response.text()
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`)
    return JSON.parse(text) as Record<string, unknown>
  }
  const expect401 = async (response: Response, context: string) => {
    const text = await response.text()
    expect(response.status, `${context}: ${text.slice(0, 200)}`).toBe(401)
    expect(response.headers.get('content-type'), context).toBe('application/problem+json')
    expect(response.headers.get('www-authenticate'), context).toBe('Bearer realm="harmonia"')
    const problem = JSON.parse(text) as Record<string, unknown>
    expect(problem, context).toMatchObject({ type: 'https://harmonia.dev/problems/401', title: 'Unauthorized', status: 401 })
    expect(problem.detail, context).toMatch(/token/)
    for (const token of TOKENS) expect(text, context).not.toContain(token)
  }

  beforeAll(async () => {
    server = await startServer({
      port: 0,
      hostname: '127.0.0.1',
      tokens: TOKENS,
      graceMs: 0,
      logger: createLogger({ level: 'debug', pretty: false, write: (line) => logged.push(line) }),
      harmoniaOptions: { database: 'memory:store', components: { test: testComponent(gate.promise) } },
    })
    const workflow = await authed('POST', '/api/workflows', {
      name: 'auth',
      tasks: [{ id: 'a', component: 'harmonia', action: 'echo', input: { x: 1 } }],
    })
    const execution = await authed('POST', '/api/executions', { workflow_id: workflow.workflow_id })
    await server.harmonia.waitForExecution(execution.execution_id as string)
    const template = await authed('POST', '/api/templates', { name: 't', workflow_definition_id: workflow.workflow_id })
    const checkpoint = await authed('POST', '/api/checkpoints', { execution_id: execution.execution_id })
    const deletable = await authed('POST', '/api/workflows', { name: 'to delete', tasks: workflowBody.tasks })
    ids = {
      workflow: workflow.workflow_id as string,
      execution: execution.execution_id as string,
      template: template.template_id as string,
      checkpoint: checkpoint.checkpoint_id as string,
      deletable: deletable.workflow_id as string,
    }
  })

  afterAll(async () => {
    gate.resolve()
    await server?.close()
  })

  it('protects every route of API.md (and /api/v1, the streams, /openapi.json, /docs)', () => {
    expect(PROTECTED).toHaveLength(2 * 23 + 5)
  })

  describe.each(BAD_CREDENTIALS)('with $name', ({ name, headers }) => {
    it.each(PROTECTED)('$method $path → 401', async (route) => {
      const path = fill(route.path, ids)
      await expect401(await request(route.method, path, headers, route.body?.(ids)), `${name}: ${route.method} ${path}`)
    })
  })

  it('takes ?token= only on the event streams: REST routes, the spec and the docs refuse it', async () => {
    for (const route of PROTECTED.filter((r) => !r.path.startsWith('/events/') && !r.path.startsWith('/ws/'))) {
      const path = `${fill(route.path, ids)}?token=${TOKEN}`
      await expect401(await request(route.method, path, {}, route.body?.(ids)), `${route.method} ${path}`)
    }
  })

  it('answers /health and /ready without a token (and with a wrong one)', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }] as Record<string, string>[]) {
      const health = await request('GET', '/health', headers)
      expect(health.status).toBe(200)
      expect(await health.json()).toMatchObject({ status: 'healthy', component: 'harmonia' })
      const ready = await request('GET', '/ready', headers)
      expect(ready.status).toBe(200)
      expect(await ready.json()).toMatchObject({ ready: true })
    }
  })

  it('lets a valid bearer token through on every route (either token, any case of "Bearer")', async () => {
    const rest = PROTECTED.filter((r) => !r.path.startsWith('/events/') && !r.path.startsWith('/ws/'))
    for (const [i, route] of rest.entries()) {
      const path = fill(route.path, ids)
      const token = i % 2 === 0 ? TOKEN : OTHER_TOKEN
      const scheme = i % 3 === 0 ? 'bearer' : 'Bearer'
      const response = await request(route.method, path, { authorization: `${scheme} ${token}` }, route.body?.(ids))
      const text = await response.text()
      // Past auth: the route itself answers (a 409 for the cancel of a completed execution, a 404 for a second delete).
      expect([401, 403], `${route.method} ${path}: ${text.slice(0, 200)}`).not.toContain(response.status)
      expect(response.status, `${route.method} ${path}: ${text.slice(0, 200)}`).toBeLessThan(500)
      if (route.method === 'GET') expect(response.status, `${route.method} ${path}`).toBe(200)
    }
    const docs = await request('GET', '/docs', { authorization: `Bearer ${TOKEN}` })
    expect(docs.headers.get('content-type')).toMatch(/^text\/html/)
    const spec = await request('GET', '/openapi.json', { authorization: `Bearer ${TOKEN}` })
    expect(((await spec.json()) as { openapi: string }).openapi).toBe('3.1.0')
  })

  describe('SSE', () => {
    const readAll = async (response: Response) => {
      const text = await response.text()
      return text
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => JSON.parse(line.slice(6)) as ExecutionEvent)
    }

    it('refuses a stream without a token, with a wrong ?token= and with a wrong bearer', async () => {
      const path = `/events/executions/${ids.execution}`
      await expect401(await request('GET', path), 'no token')
      await expect401(await request('GET', `${path}?token=wrong`), 'wrong ?token=')
      await expect401(await request('GET', `${path}?token=`), 'empty ?token=')
      await expect401(await request('GET', path, { authorization: 'Bearer wrong' }), 'wrong bearer')
      // A wrong bearer is not rescued by a right ?token=: the header is what was presented.
      await expect401(await request('GET', `${path}?token=${TOKEN}`, { authorization: 'Bearer wrong' }), 'wrong bearer, right query')
    })

    it('opens the stream of every execution with ?token= (and refuses it without)', async () => {
      await expect401(await request('GET', '/events/executions?token=wrong'), 'all executions, wrong ?token=')
      const abort = new AbortController()
      const response = await fetch(`${server.url}/events/executions?token=${encodeURIComponent(TOKEN)}`, { signal: abort.signal })
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
      abort.abort()
    })

    it('streams with ?token= and with a bearer header', async () => {
      for (const [path, headers] of [
        [`/events/executions/${ids.execution}?token=${encodeURIComponent(TOKEN)}`, {}],
        [`/events/executions/${ids.execution}?token=${encodeURIComponent(OTHER_TOKEN)}&after=1`, {}],
        [`/events/executions/${ids.execution}`, { authorization: `Bearer ${TOKEN}` }],
      ] as const) {
        const response = await request('GET', path, headers)
        expect(response.status, path).toBe(200)
        expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
        const events = await readAll(response)
        expect(events.length, path).toBeGreaterThan(0)
        expect(events.at(-1)!.type).toBe('workflow_completed')
        expect(events.every((e) => e.execution_id === ids.execution)).toBe(true)
      }
    })
  })

  describe('WebSocket', () => {
    const wsUrl = (path: string) => server.url.replace(/^http/, 'ws') + path

    type Opened = { socket: WebSocket; done: Promise<{ events: ExecutionEvent[]; code: number }> }
    type Refused = { refused: number; headers: Record<string, string | string[] | undefined> }

    /**
     * Connects and reports how the upgrade went: refused with a status, or opened. Frames are collected from the start
     * (the replay can arrive in the same packet as the handshake, before a listener attached after 'open').
     */
    const connect = (path: string, headers: Record<string, string> = {}) =>
      new Promise<Refused | Opened>((resolve, reject) => {
        const socket = new WebSocket(wsUrl(path), { headers })
        const events: ExecutionEvent[] = []
        socket.on('message', (data: Buffer) => events.push(JSON.parse(data.toString('utf8')) as ExecutionEvent))
        const done = new Promise<{ events: ExecutionEvent[]; code: number }>((resolveDone) =>
          socket.on('close', (code) => resolveDone({ events, code })),
        )
        socket.on('unexpected-response', (_request, response) => {
          resolve({ refused: response.statusCode ?? 0, headers: response.headers })
          socket.terminate()
        })
        socket.on('open', () => resolve({ socket, done }))
        socket.on('error', (error) => reject(error))
      })

    it('refuses an upgrade without a token, with a wrong token and with a wrong ?token= (401)', async () => {
      for (const [path, headers] of [
        [`/ws/executions/${ids.execution}`, {}],
        [`/ws/executions/${ids.execution}?token=wrong`, {}],
        [`/ws/executions/${ids.execution}`, { authorization: 'Bearer wrong' }],
        [`/ws/executions/${ids.execution}?token=${TOKEN.slice(1)}`, {}],
      ] as const) {
        const outcome = await connect(path, headers)
        expect('refused' in outcome ? outcome.refused : 'opened', path).toBe(401)
        // @hono/node-server answers a refused upgrade with the route's status and headers but no body.
        if ('refused' in outcome) expect(outcome.headers['www-authenticate']).toBe('Bearer realm="harmonia"')
      }
    })

    it('connects with ?token= and receives the events of a live execution, then a 1000 close', async () => {
      const workflow = await authed('POST', '/api/workflows', { name: 'live', tasks: [{ id: 'w', component: 'test', action: 'wait' }] })
      const execution = await authed('POST', '/api/executions', { workflow_id: workflow.workflow_id })
      const outcome = await connect(`/ws/executions/${execution.execution_id as string}?token=${encodeURIComponent(TOKEN)}`)
      if (!('socket' in outcome)) throw new Error(`refused with ${outcome.refused}`)
      gate.resolve()
      const { events, code } = await outcome.done
      expect(code).toBe(1000)
      expect(events.map((e) => e.type)).toEqual(
        expect.arrayContaining(['workflow_started', 'task_started', 'task_completed', 'workflow_completed']),
      )
      expect(events.at(-1)!.type).toBe('workflow_completed')
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1))
    })

    it('connects with a bearer header too', async () => {
      const outcome = await connect(`/ws/executions/${ids.execution}`, { authorization: `Bearer ${OTHER_TOKEN}` })
      if (!('socket' in outcome)) throw new Error(`refused with ${outcome.refused}`)
      const { events, code } = await outcome.done
      expect(code).toBe(1000)
      expect(events.at(-1)!.type).toBe('workflow_completed')
    })
  })

  it('never logs a token', () => {
    const all = logged.join('\n')
    for (const token of TOKENS) expect(all).not.toContain(token)
  })
})

describe('auth without tokens', () => {
  it('leaves every route open', async () => {
    const server = await startServer({ port: 0, hostname: '127.0.0.1', tokens: [], harmoniaOptions: { database: 'memory:store' } })
    try {
      for (const path of ['/api/workflows', '/api/v1/executions', '/openapi.json', '/docs', '/health']) {
        expect((await fetch(server.url + path)).status, path).toBe(200)
      }
    } finally {
      await server.close()
    }
  })
})
