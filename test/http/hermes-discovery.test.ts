/**
 * Hermes discovery (API.md "Hermes discovery") end to end: a real Harmonia server started with HERMES_URL pointing at
 * the Hermes stand-in, and a real component server (node:http) that Hermes reports as the `endpoint` of `sophia`. A
 * workflow naming a component only Hermes knows is accepted and runs through the remote protocol; unknown names and
 * actions are 422; Hermes down is 503 (never a silent acceptance); hits are cached 60 s on the engine's clock.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SimulatedClock } from 'xstate'
import { startServer, type RunningServer, type ServerOptions } from '../../src/http/server.js'
import { createLogger } from '../../src/logger.js'
import { MAKE_KNOWN } from '../../src/model/component-check.js'
import { until } from '../support/async.js'
import { startHermesStandIn, type HermesStandIn } from '../support/hermes-stand-in.js'

type Call = { method: string; path: string; headers: IncomingHttpHeaders; body: any }

/**
 * A component on 127.0.0.1: `predict` answers 200 with an output; `learn` answers 202, then calls back
 * `{callback_url}/complete` with the bearer token the test gives it (a Hermes component has no secret).
 */
async function startComponent(callbackToken?: string) {
  const calls: Call[] = []
  const callbacks: { status: number; body: unknown }[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const body = text === '' ? null : JSON.parse(text)
      calls.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body })
      const send = (status: number, answer: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
      if (req.url === '/api/actions/predict') return void send(200, { output: { prediction: body.params.x * 2 } })
      if (req.url !== '/api/actions/learn') return void send(404, { error: { message: 'no such action' } })
      send(202, { accepted: true })
      void fetch(`${body.context.callback_url}/complete`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(callbackToken ? { authorization: `Bearer ${callbackToken}` } : {}) },
        body: JSON.stringify({ output: { learned: body.params.topic }, attempt: body.context.attempt }),
      }).then(async (r) => callbacks.push({ status: r.status, body: await r.json() }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    callbacks,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

const silent = createLogger({ level: 'silent' })
let hermes: HermesStandIn
let component: Awaited<ReturnType<typeof startComponent>>
const servers: RunningServer[] = []

beforeAll(async () => {
  hermes = await startHermesStandIn()
  component = await startComponent('t0k')
})
afterAll(async () => {
  await component.close()
  await hermes.stop()
})
beforeEach(() => {
  hermes.components.clear()
  hermes.requests.length = 0
  component.calls.length = 0
  hermes.add('sophia', { endpoint: component.url, capabilities: ['predict'] })
})
afterEach(async () => {
  // A test that stopped the stand-in and failed before starting it again leaves it down.
  await hermes.start().catch(() => undefined)
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

/** A Harmonia server whose engine discovers components in the stand-in (startServer creates it with `hermesUrl`). */
async function harmoniaServer(options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const server = await startServer({
    port: 0,
    hostname: '127.0.0.1',
    tokens: [],
    graceMs: 0,
    logger: silent,
    hermesUrl: hermes.url,
    ...options,
    harmoniaOptions: { database: 'memory:store', ...options.harmoniaOptions },
  })
  servers.push(server)
  return server
}

type Problem = { type: string; title: string; status: number; detail: string; errors?: { path: string; message: string }[] }

function request(server: RunningServer, method: string, path: string, body?: unknown, token?: string) {
  return fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
}

const workflowNaming = (component: string, action: string) => ({
  name: `uses-${component}`,
  tasks: [{ id: 'p', component, action, input: { x: 21, topic: 'owls' } }],
})
const createWorkflow = (server: RunningServer, component: string, action: string, token?: string) =>
  request(server, 'POST', '/api/workflows', workflowNaming(component, action), token)
const lookups = (name: string) => hermes.requestsTo(`/api/components/${name}`).length
const storedWorkflows = async (server: RunningServer) =>
  ((await (await request(server, 'GET', '/api/workflows')).json()) as { total: number }).total

describe('a component only Hermes knows', () => {
  it('is accepted at create, called through the remote protocol, and shown with source hermes', async () => {
    const server = await harmoniaServer()
    const created = await createWorkflow(server, 'sophia', 'predict')
    expect(created.status).toBe(201)
    const workflow = (await created.json()) as { workflow_id: string }
    expect(lookups('sophia')).toBe(1)

    const started = await request(server, 'POST', '/api/executions', { workflow_id: workflow.workflow_id })
    expect(started.status).toBe(201)
    const { execution_id } = (await started.json()) as { execution_id: string }
    await server.harmonia.waitForExecution(execution_id)
    const execution = (await (await request(server, 'GET', `/api/executions/${execution_id}`)).json()) as {
      status: string
      task_executions: Record<string, { status: string; output: unknown; attempts: number }>
    }
    expect(execution.status).toBe('completed')
    expect(execution.task_executions.p).toMatchObject({ status: 'completed', output: { prediction: 42 }, attempts: 1 })

    // The call of API.md "The call": the action path, the body, the idempotency key, a timestamp and no signature.
    expect(component.calls).toHaveLength(1)
    const [call] = component.calls
    expect(call).toMatchObject({
      method: 'POST',
      path: '/api/actions/predict',
      body: {
        action: 'predict',
        params: { x: 21, topic: 'owls' },
        context: {
          execution_id,
          workflow_id: workflow.workflow_id,
          task_id: 'p',
          attempt: 1,
          idempotency_key: `${execution_id}:p`,
          callback_url: `${server.url}/api/executions/${execution_id}/tasks/p`,
        },
      },
    })
    expect(call!.headers).toMatchObject({ 'content-type': 'application/json', 'idempotency-key': `${execution_id}:p` })
    expect(call!.headers['x-harmonia-timestamp']).toMatch(/^\d+$/)
    expect(call!.headers['x-harmonia-signature']).toBeUndefined()

    const described = await request(server, 'GET', '/api/components/sophia')
    expect(described.status).toBe(200)
    expect(await described.json()).toMatchObject({
      name: 'sophia',
      url: component.url,
      actions: ['predict'],
      source: 'hermes',
      has_secret: false,
    })
  })

  it('answers 202 and settles the task with a callback authenticated by a bearer token', async () => {
    hermes.add('athena', { endpoint: component.url, capabilities: ['learn'] })
    const server = await harmoniaServer({ tokens: ['t0k'] })
    const created = await createWorkflow(server, 'athena', 'learn', 't0k')
    expect(created.status).toBe(201)
    const { workflow_id } = (await created.json()) as { workflow_id: string }
    const started = await request(server, 'POST', '/api/executions', { workflow_id }, 't0k')
    const { execution_id } = (await started.json()) as { execution_id: string }
    const done = await server.harmonia.waitForExecution(execution_id)
    expect(done.status).toBe('completed')
    expect(done.task_executions.p).toMatchObject({ status: 'completed', output: { learned: 'owls' }, attempts: 1 })
    await until(() => component.callbacks.length > 0, 'the callback answer')
    expect(component.callbacks).toEqual([{ status: 200, body: { accepted: true, task_id: 'p', status: 'completed' } }])
  })
})

describe('create-time checks against Hermes', () => {
  it('refuses a name Hermes does not know (422 at tasks[0].component, with the hint) and stores nothing', async () => {
    const server = await harmoniaServer()
    const response = await createWorkflow(server, 'nobody', 'predict')
    expect(response.status).toBe(422)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    const problem = (await response.json()) as Problem
    expect(problem.errors).toEqual([{ path: 'tasks[0].component', message: expect.stringContaining(MAKE_KNOWN) }])
    expect(lookups('nobody')).toBe(1)
    expect(await storedWorkflows(server)).toBe(0)
  })

  it('refuses an action outside the capabilities Hermes lists (422 at tasks[0].action)', async () => {
    const server = await harmoniaServer()
    const response = await createWorkflow(server, 'sophia', 'train')
    expect(response.status).toBe(422)
    const problem = (await response.json()) as Problem
    expect(problem.errors).toEqual([{ path: 'tasks[0].action', message: expect.stringContaining('has no action "train"') }])
    expect(await storedWorkflows(server)).toBe(0)
  })

  it('answers 503 with Retry-After while Hermes is down for a name not cached, never accepting it; 201 once it is back', async () => {
    const server = await harmoniaServer()
    expect((await createWorkflow(server, 'sophia', 'predict')).status).toBe(201) // sophia is cached from now on
    hermes.add('hestia', { endpoint: component.url, capabilities: ['predict'] })
    await hermes.stop()

    const refused = await createWorkflow(server, 'hestia', 'predict')
    expect(refused.status).toBe(503)
    expect(refused.headers.get('content-type')).toBe('application/problem+json')
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    const problem = (await refused.json()) as Problem
    expect(problem).toMatchObject({ status: 503 })
    expect(problem.detail).toMatch(/Hermes at http:\/\/127\.0\.0\.1:\d+ cannot be reached/)
    expect(await storedWorkflows(server)).toBe(1)
    // A name cached within the last 60 s does not need Hermes.
    expect((await createWorkflow(server, 'sophia', 'predict')).status).toBe(201)
    expect(await storedWorkflows(server)).toBe(2)

    await hermes.start()
    expect((await createWorkflow(server, 'hestia', 'predict')).status).toBe(201)
    expect(await storedWorkflows(server)).toBe(3)
  })
})

describe('the cache of Hermes answers', () => {
  it('keeps a hit for 60 s on the engine clock: one lookup for creates within it, a new one after', async () => {
    const clock = new SimulatedClock()
    clock.set(Date.parse('2025-01-01T00:00:00Z'))
    const server = await harmoniaServer({ harmoniaOptions: { clock } })
    expect((await createWorkflow(server, 'sophia', 'predict')).status).toBe(201)
    expect((await createWorkflow(server, 'sophia', 'predict')).status).toBe(201)
    expect(lookups('sophia')).toBe(1)
    clock.increment(59_999)
    expect((await createWorkflow(server, 'sophia', 'predict')).status).toBe(201)
    expect(lookups('sophia')).toBe(1)
    clock.increment(2)
    expect((await createWorkflow(server, 'sophia', 'predict')).status).toBe(201)
    expect(lookups('sophia')).toBe(2)
  })
})
