/**
 * Roles (API.md "Roles, audit and limits"): with `viewer:`, `operator:` and `admin:` tokens and a bare one (= admin),
 * every route the app serves — read from the app itself, so a new route is covered the day it is added — answers
 * each credential as the rules say: viewer may read (every GET, the event streams, the WebSocket, the spec, the docs),
 * operator also runs executions (start, pause, resume, cancel, rerun, state, checkpoints and restore, task callbacks),
 * admin everything (workflows, templates, components, subscriptions, the audit log); /health and /ready need nothing. A token
 * without the role gets 403 problem+json naming the role needed; no token or a wrong one gets 401. Through a real
 * listening server; a second one reads its tokens from HARMONIA_API_TOKENS_FILE.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { Component } from '../../src/components/handler.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { apiClient } from '../support/api.js'
import { closeComponentServers, startComponentServer } from '../support/component-server.js'
import { deferred } from '../support/harness.js'
import { apiRest, appRoutes, fillRoute, type AppRoute } from '../support/routes.js'

type Role = 'viewer' | 'operator' | 'admin'
type Needed = Role | 'nothing'
type Credential = 'viewer' | 'operator' | 'admin' | 'bare' | 'none' | 'wrong'

const TOKENS = { viewer: 'v-token', operator: 'o-token', admin: 'a-token', bare: 'b-token' } as const
const CONFIGURED = ['viewer:v-token', 'operator:o-token', 'admin:a-token', 'b-token']
const CREDENTIALS: Credential[] = ['viewer', 'operator', 'admin', 'bare', 'none', 'wrong']
const RANK: Record<Needed, number> = { nothing: -1, viewer: 0, operator: 1, admin: 2 }
const HELD: Record<Credential, number> = { viewer: 0, operator: 1, admin: 2, bare: 2, none: -1, wrong: -1 }

/** What an operator may write, as API.md lists it (route patterns below /api and /api/v1). */
const OPERATOR_WRITES = new Set([
  'POST /executions',
  'POST /executions/:id/pause',
  'POST /executions/:id/resume',
  'POST /executions/:id/cancel',
  'POST /executions/:id/rerun',
  'PUT /state/:executionId',
  'POST /checkpoints',
  'POST /checkpoints/:id/restore',
  'POST /executions/:id/tasks/:taskId/complete',
  'POST /executions/:id/tasks/:taskId/fail',
  'POST /executions/:id/signals/:name',
])

/** The role API.md asks of a route (written from the contract, not from src/http/roles.ts). */
function needed({ method, path }: AppRoute): Needed {
  if (path === '/health' || path === '/ready') return 'nothing'
  // The web UI's shell and code hold no data (issue 14): open, like the probes; the API behind them is not.
  if (path === '/' || path === '/ui' || path.startsWith('/ui/')) return 'nothing'
  const rest = apiRest(path)
  if (method === 'GET') return rest === '/audit' && rest !== path ? 'admin' : 'viewer'
  return OPERATOR_WRITES.has(`${method} ${rest}`) ? 'operator' : 'admin'
}

type Ids = {
  workflow: string
  deletableWorkflow: string
  execution: string
  template: string
  deletableTemplate: string
  checkpoint: string
  component: string
  deletableComponent: string
  componentUrl: string
  subscription: string
  deletableSubscription: string
}

/** The fixture a path parameter names; an unknown one stops the test so that a new route gets a fixture. */
function concrete(route: AppRoute, ids: Ids): string {
  // The UI's wildcards: a module of its assets, a page of the shell.
  const path = route.path
    .replace(/^\/ui\/assets\/\*$/, '/ui/assets/app.js')
    .replace(/^\/ui\/vendor\/:folder\/\*$/, '/ui/vendor/yaml/index.js')
    .replace(/^\/ui\/\*$/, '/ui/executions')
  return fillRoute(path, (collection, param) => {
    const deleting = route.method === 'DELETE'
    switch (collection) {
      case 'workflows':
        return deleting ? ids.deletableWorkflow : ids.workflow
      case 'executions':
      case 'state':
        return ids.execution
      case 'tasks':
        return 'a'
      case 'signals':
        return 'approved'
      case 'templates':
        return deleting ? ids.deletableTemplate : ids.template
      case 'checkpoints':
        return ids.checkpoint
      case 'components':
        return deleting ? ids.deletableComponent : ids.component
      case 'subscriptions':
        return deleting ? ids.deletableSubscription : ids.subscription
      case 'vendor':
        return 'preact.mjs'
      default:
        throw new Error(`no fixture for :${param} of ${route.method} ${route.path}: add one to roles.test.ts`)
    }
  })
}

const workflowBody = { name: 'roles', tasks: [{ id: 'a', component: 'harmonia', action: 'echo', input: { x: 1 } }] }

/** A body the route accepts (so that an allowed request reaches the route itself), by route pattern. */
function bodyOf(route: AppRoute, ids: Ids): unknown {
  const rest = apiRest(route.path)
  const bodies: Record<string, unknown> = {
    'POST /workflows': workflowBody,
    'PUT /workflows/:id': workflowBody,
    'POST /executions': { workflow_id: ids.workflow },
    'POST /executions/:id/rerun': {},
    'POST /executions/:id/tasks/:taskId/complete': { output: { done: true } },
    'POST /executions/:id/tasks/:taskId/fail': { error: { message: 'failed by the test' } },
    'POST /components': { name: 'roles-created', url: ids.componentUrl },
    'PUT /components/:name': { url: ids.componentUrl, description: 'updated' },
    'POST /templates': { name: 'roles template', workflow_definition_id: ids.workflow },
    'POST /templates/:id/instantiate': { parameter_values: {} },
    'PUT /state/:executionId': { state: { k: 1 } },
    'POST /checkpoints': { execution_id: ids.execution },
    'POST /executions/:id/signals/:name': { payload: { ok: true } },
    'POST /subscriptions': { url: `${ids.componentUrl}/hooks` },
  }
  return bodies[`${route.method} ${rest}`]
}

const authorization = (credential: Credential): Record<string, string> =>
  credential === 'none' ? {} : { authorization: `Bearer ${credential === 'wrong' ? 'not-a-token' : TOKENS[credential]}` }

const isStream = (route: AppRoute) => route.path.startsWith('/events/')
const isSocket = (route: AppRoute) => route.path.startsWith('/ws/')

type Answer = { status: number; type: string; text: string }

/** A WebSocket upgrade: refused with a status, or opened (and then closed by the server after the replay: 1000). */
function upgrade(url: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers })
    socket.on('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type'] ?? ''), text: '' })
      socket.terminate()
    })
    socket.on('close', (code) => resolve({ status: code === 1000 ? 101 : -code, type: 'websocket', text: '' }))
    socket.on('error', reject)
  })
}

describe('roles on every route', () => {
  let server: RunningServer
  let ids: Ids
  const gate = deferred()
  const test: Component = { wait: () => gate.promise.then(() => ({ released: true })) }

  /** Sends one request as `credential` (the event streams and the WebSocket also with `?token=`). */
  async function send(route: AppRoute, credential: Credential, via: 'header' | 'query' = 'header'): Promise<Answer> {
    const path = concrete(route, ids)
    const token = authorization(credential).authorization?.slice('Bearer '.length)
    const url = via === 'query' && token !== undefined ? `${server.url}${path}?token=${encodeURIComponent(token)}` : server.url + path
    const headers = via === 'header' ? authorization(credential) : {}
    if (isSocket(route)) return upgrade(url.replace(/^http/, 'ws'), headers)
    const body = bodyOf(route, ids)
    const abort = new AbortController()
    const response = await fetch(url, {
      method: route.method,
      signal: abort.signal,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const type = response.headers.get('content-type') ?? ''
    // The stream of every execution never ends: its status and type are the answer.
    if (type.startsWith('text/event-stream')) {
      abort.abort()
      return { status: response.status, type, text: '' }
    }
    return { status: response.status, type, text: await response.text() }
  }

  beforeAll(async () => {
    const remote = await startComponentServer()
    server = await startServer({
      port: 0,
      hostname: '127.0.0.1',
      tokens: CONFIGURED,
      graceMs: 0,
      harmoniaOptions: { database: 'memory:store', components: { test } },
    })
    const call = apiClient(() => server.url, { authorization: `Bearer ${TOKENS.admin}` })
    const created = async (method: string, path: string, body: unknown) => {
      const answer = await call(method, path, body)
      if (answer.status !== 201) throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`)
      return answer.body as Record<string, string>
    }
    const workflow = await created('POST', '/api/workflows', workflowBody)
    const deletable = await created('POST', '/api/workflows', { ...workflowBody, name: 'to delete' })
    const execution = await created('POST', '/api/executions', { workflow_id: workflow.workflow_id })
    await server.harmonia.waitForExecution(execution.execution_id!)
    const template = await created('POST', '/api/templates', { name: 't', workflow_definition_id: workflow.workflow_id })
    const deletableTemplate = await created('POST', '/api/templates', { name: 't2', workflow_definition_id: workflow.workflow_id })
    const checkpoint = await created('POST', '/api/checkpoints', { execution_id: execution.execution_id })
    await created('POST', '/api/components', { name: 'roles-remote', url: remote.url })
    await created('POST', '/api/components', { name: 'roles-deletable', url: remote.url })
    const subscription = await created('POST', '/api/subscriptions', { url: `${remote.url}/hooks`, types: ['task_failed'] })
    const deletableSubscription = await created('POST', '/api/subscriptions', { url: `${remote.url}/hooks`, types: ['task_failed'] })
    ids = {
      workflow: workflow.workflow_id!,
      deletableWorkflow: deletable.workflow_id!,
      execution: execution.execution_id!,
      template: template.template_id!,
      deletableTemplate: deletableTemplate.template_id!,
      checkpoint: checkpoint.checkpoint_id!,
      component: 'roles-remote',
      deletableComponent: 'roles-deletable',
      componentUrl: remote.url,
      subscription: subscription.subscription_id!,
      deletableSubscription: deletableSubscription.subscription_id!,
    }
  })

  afterAll(async () => {
    gate.resolve()
    await server?.close()
    await closeComponentServers()
  })

  // The route list is read here, at collection time, from an app built like the server's.
  const routes = appRoutes({} as never)

  it('reads every route from the app: /api, /api/v1, the streams, the WebSocket, the spec, the docs, the probes', () => {
    const listed = routes.map((r) => `${r.method} ${r.path}`)
    for (const route of [
      'GET /health',
      'GET /ready',
      'GET /openapi.json',
      'GET /docs',
      'GET /metrics',
      'GET /ui/*',
      'GET /events/executions',
      'GET /ws/executions/:id',
    ]) {
      expect(listed).toContain(route)
    }
    for (const rest of [...OPERATOR_WRITES, 'GET /audit', 'DELETE /components/:name', 'PUT /workflows/:id']) {
      const [method, path] = rest.split(' ') as [string, string]
      expect(listed, rest).toContain(`${method} /api${path}`)
      expect(listed, rest).toContain(`${method} /api/v1${path}`)
    }
    expect(routes.length).toBeGreaterThan(70)
  })

  const cases = routes.flatMap((route) =>
    CREDENTIALS.map((credential) => {
      const role = needed(route)
      const expected = HELD[credential] >= RANK[role] ? 'allowed' : HELD[credential] < 0 ? 401 : 403
      return { ...route, credential, role, expected }
    }),
  )

  it.each(cases)('$method $path as $credential (needs $role) → $expected', async ({ credential, role, expected, ...route }) => {
    const answer = await send(route, credential)
    const context = `${route.method} ${concrete(route, ids)} as ${credential}: ${answer.status} ${answer.text.slice(0, 300)}`
    if (expected === 'allowed') {
      if (isSocket(route)) expect(answer.status, context).toBe(101)
      else if (route.method === 'GET') expect(answer.status, context).toBe(200)
      // Past auth, the route answers as it does for anyone: 2xx, or its 404/409/422 (a second delete, a finished execution).
      else expect([200, 201, 202, 204, 404, 409, 422], context).toContain(answer.status)
      if (isStream(route)) expect(answer.type, context).toMatch(/^text\/event-stream/)
    } else if (isSocket(route)) {
      expect(answer.status, context).toBe(expected)
    } else {
      expect(answer.status, context).toBe(expected)
      expect(answer.type, context).toBe('application/problem+json')
      const problem = JSON.parse(answer.text) as Record<string, unknown>
      expect(problem.status, context).toBe(expected)
      if (expected === 403) {
        expect(problem, context).toMatchObject({ type: 'https://harmonia.dev/problems/403', title: 'Forbidden' })
        expect(problem.detail, context).toMatch(new RegExp(`needs the ${role} role`))
      }
    }
    for (const token of Object.values(TOKENS)) expect(answer.text, context).not.toContain(token)
  })

  const streams = routes.filter((r) => isStream(r) || isSocket(r))
  const streamCases = streams.flatMap((route) => CREDENTIALS.map((credential) => ({ ...route, credential })))

  it.each(streamCases)('$method $path?token= as $credential', async ({ credential, ...route }) => {
    expect(streams.length).toBeGreaterThanOrEqual(3)
    const answer = await send(route, credential, 'query')
    const context = `${route.path}?token= as ${credential}: ${answer.status}`
    if (credential === 'none' || credential === 'wrong') expect(answer.status, context).toBe(401)
    else expect(answer.status, context).toBe(isSocket(route) ? 101 : 200)
  })
})

describe('tokens from HARMONIA_API_TOKENS_FILE', () => {
  let dir: string
  let server: RunningServer
  const saved = { file: process.env.HARMONIA_API_TOKENS_FILE, tokens: process.env.HARMONIA_API_TOKENS }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'harmonia-roles-'))
    const file = join(dir, 'tokens')
    await writeFile(
      file,
      [
        '# Harmonia API tokens, one entry a line',
        'viewer:file-viewer',
        '',
        '  operator:file-operator  ',
        '  # an indented comment',
        'file-bare',
        '# admin:commented-out',
        '',
      ].join('\n'),
    )
    process.env.HARMONIA_API_TOKENS_FILE = file
    process.env.HARMONIA_API_TOKENS = 'viewer:env-viewer'
    // No `tokens` option: startServer reads the environment.
    server = await startServer({ port: 0, hostname: '127.0.0.1', graceMs: 0, harmoniaOptions: { database: 'memory:store' } })
  })

  afterAll(async () => {
    for (const [key, value] of [
      ['HARMONIA_API_TOKENS_FILE', saved.file],
      ['HARMONIA_API_TOKENS', saved.tokens],
    ] as const) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
    await server?.close()
    await rm(dir, { recursive: true, force: true })
  })

  const as = (token: string | undefined) => apiClient(() => server.url, token === undefined ? {} : { authorization: `Bearer ${token}` })

  it('gives each line its role, skips comments and blank lines, and keeps HARMONIA_API_TOKENS', async () => {
    const workflow = await as('file-bare')('POST', '/api/workflows', workflowBody)
    expect(workflow.status).toBe(201)
    const id = workflow.body.workflow_id as string

    for (const token of ['file-viewer', 'env-viewer']) {
      expect((await as(token)('GET', `/api/workflows/${id}`)).status, token).toBe(200)
      const refused = await as(token)('POST', '/api/executions', { workflow_id: id })
      expect(refused.status, token).toBe(403)
      expect(refused.body.detail).toMatch(/needs the operator role/)
    }
    const started = await as('file-operator')('POST', '/api/executions', { workflow_id: id })
    expect(started.status).toBe(201)
    const forbidden = await as('file-operator')('PUT', `/api/workflows/${id}`, workflowBody)
    expect(forbidden.status).toBe(403)
    expect(forbidden.type).toBe('application/problem+json')
    expect(forbidden.body.detail).toMatch(/needs the admin role/)
    expect((await as('file-bare')('GET', '/api/audit')).status).toBe(200)

    for (const token of ['admin:commented-out', 'commented-out', '# admin:commented-out', undefined]) {
      expect((await as(token)('GET', '/api/workflows')).status, String(token)).toBe(401)
    }
    expect((await as(undefined)('GET', '/health')).status).toBe(200)
  })
})
