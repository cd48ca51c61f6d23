/**
 * Fuzzing every route through a real listening server with tokens configured, on PGlite (API.md "Conventions":
 * never 500 for anything a client sent; errors as problem+json): 10,000 random requests (fast-check, fixed seed) —
 * each a route of the app (read from the app itself) or a method it does not serve, ids from the fixtures or random,
 * random query strings, random headers (good, bad and malformed auth, signatures, content types), random JSON,
 * shaped, non-JSON, truncated and oversized bodies. Not one answer is a 5xx, every 4xx is problem+json, every route is
 * reached past auth, and afterwards the server answers /health and runs an execution to completion.
 */
import { request as httpRequest } from 'node:http'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Component } from '../../src/components/handler.js'
import { createSqlStore } from '../../src/db/sql.store.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { createLogger } from '../../src/logger.js'
import { apiClient } from '../support/api.js'
import { closeComponentServers, startComponentServer } from '../support/component-server.js'
import { drivers } from '../support/db.js'
import { deferred, until } from '../support/harness.js'
import { appRoutes, fillRoute, type AppRoute } from '../support/routes.js'

const RUNS = 10_000
const SEED = 20_260_101
const MISSING = '01890000-0000-7000-8000-000000000000'
const TOKENS = { viewer: 'fz-viewer', operator: 'fz-operator', admin: 'fz-admin', bare: 'fz-bare' }
/** One byte over the default body limit (1 MiB): a 413. */
const OVERSIZED = JSON.stringify({ name: 'x'.repeat(1024 * 1024) })

type Fixtures = Record<'workflow' | 'execution' | 'template' | 'checkpoint' | 'component', string> & {
  /** Executions waiting in a task (the fuzz pauses, resumes and cancels them). */
  running: string[]
  deletableWorkflows: string[]
  deletableComponents: string[]
  componentUrl: string
}

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; text: string }

/**
 * One request on a connection of its own (no pooling: an event stream that is cut, a HEAD of a stream, cannot hold up
 * the next request). An event stream is cut once its head is in. A deadline, not an assertion: a server that does not
 * answer fails the property with the request that hung.
 */
function send(base: string, method: string, path: string, headers: Record<string, string>, body: string | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // Node frames a body of DELETE or OPTIONS only when told its length.
    const framed = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }
    const req = httpRequest(`${base}${path}`, { method, headers: framed, agent: false }, (res) => {
      const answer = (text: string): Answer => ({ status: res.statusCode ?? 0, headers: res.headers, text })
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        res.destroy()
        return resolve(answer(''))
      }
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve(answer(Buffer.concat(chunks).toString('utf8'))))
      res.on('error', reject)
    })
    req.setTimeout(20_000, () => req.destroy(new Error(`no answer within 20 s to ${method} ${path}`)))
    req.on('error', reject)
    req.end(body)
  })
}

// --- arbitraries

const printable = fc.string({ unit: fc.constantFrom(...' !"#$%&\'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~'), maxLength: 40 })
const token = fc.constantFrom(...Object.values(TOKENS))
const authorization = fc.oneof(
  { weight: 12, arbitrary: token.map((t) => `Bearer ${t}`) },
  { weight: 1, arbitrary: token.map((t) => `bearer   ${t}  `) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('Bearer nope', 'Bearer ', 'Bearer', 'Basic Zno6YWRtaW4=', 'fz-admin', 'Bearer fz-admi', 'Bearer FZ-ADMIN'),
  },
  { weight: 1, arbitrary: token.map((t) => `Bearer ${t},${t}`) },
  { weight: 1, arbitrary: printable },
)
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  '',
)
const otherHeaders = fc.record(
  {
    'content-type': contentType,
    accept: fc.constantFrom('*/*', 'application/json', 'text/event-stream', 'text/html'),
    'last-event-id': fc.oneof(fc.nat().map(String), printable),
    'x-harmonia-timestamp': fc.oneof(fc.constant(String(Math.floor(Date.now() / 1000))), fc.integer().map(String), printable),
    'x-harmonia-signature': fc.oneof(
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `sha256=${Buffer.from(b).toString('hex')}`),
      printable,
    ),
    'idempotency-key': printable,
    traceparent: fc.constantFrom('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', '00-zz-zz-zz', ''),
    'x-forwarded-for': fc.constantFrom('10.0.0.1', 'junk', '::1'),
  },
  { requiredKeys: [] },
)
/** Random headers, with an Authorization header (mostly a good one) seven times in eight. */
const headers: fc.Arbitrary<Record<string, string>> = fc
  .tuple(otherHeaders, fc.option(authorization, { freq: 8 }))
  .map(([rest, auth]) => (auth === null ? rest : { ...rest, authorization: auth }))

const query = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'limit',
        'offset',
        'filter',
        'status',
        'workflow_id',
        'version',
        'after',
        'token',
        'target_id',
        'actor',
        'types',
        'x',
      ),
      fc.oneof(
        fc.integer({ min: -5, max: 2000 }).map(String),
        fc.constantFrom('', 'running', 'completed', 'NaN', '1e9', '-0'),
        token,
        printable,
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => (pairs.length === 0 ? '' : `?${new URLSearchParams(pairs).toString()}`))

/** A path parameter: the fixture of its collection (a throwaway one for a DELETE), a missing uuid, anything. */
const param = fc.oneof(
  { weight: 6, arbitrary: fc.constant('fixture') },
  { weight: 1, arbitrary: fc.constant(MISSING) },
  { weight: 1, arbitrary: fc.uuid() },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom('..', '.', '%', '%00', ' ', 'a/b', '__proto__', 'constructor', 'é', '😀') },
)

function fixtureFor(f: Fixtures, method: string, collection: string, pick: number): string {
  const deleting = method === 'DELETE'
  switch (collection) {
    case 'workflows':
      return deleting ? f.deletableWorkflows[pick % f.deletableWorkflows.length]! : f.workflow
    case 'executions':
    case 'state':
      return pick % 2 === 0 ? f.running[pick % f.running.length]! : f.execution
    case 'tasks':
      return pick % 2 === 0 ? 'a' : 'w'
    case 'templates':
      return f.template
    case 'checkpoints':
      return f.checkpoint
    case 'components':
      return deleting ? f.deletableComponents[pick % f.deletableComponents.length]! : f.component
    default:
      return MISSING
  }
}

const jsonText = fc
  .constantFrom<'grapheme-ascii' | 'grapheme' | 'binary'>('grapheme-ascii', 'grapheme', 'binary')
  .chain((unit) => fc.json({ maxDepth: 3, stringUnit: unit }))
const task = fc.record(
  {
    id: fc.constantFrom('a', 'b', 'w', ''),
    component: fc.constantFrom('harmonia', 'shell', 'nope', 'test'),
    action: fc.constantFrom('echo', 'noop', 'fail', 'wait', 'sleep'),
    input: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('${input.n}', '${tasks.a.output}', '${1 +}')),
    depends_on: fc.array(fc.constantFrom('a', 'b', 'zz'), { maxLength: 2 }),
    retry: fc.oneof(fc.integer({ min: -1, max: 2 }), fc.jsonValue({ maxDepth: 1 })),
    timeout: fc.oneof(fc.double(), fc.integer({ min: -1, max: 5 })),
  },
  { requiredKeys: ['id', 'component', 'action'] },
)
const workflowShape = fc.record(
  { name: fc.oneof(fc.string({ maxLength: 10 }), fc.jsonValue()), tasks: fc.array(task, { maxLength: 3 }), max_concurrency: fc.integer() },
  { requiredKeys: ['name'] },
)

/** Bodies shaped like the real ones (ids from the fixtures, random values), or anything. */
const shaped = (f: Fixtures) =>
  fc.oneof(
    workflowShape,
    fc.record(
      {
        workflow_id: fc.oneof(fc.constant(f.workflow), fc.uuid(), fc.jsonValue()),
        input: fc.jsonValue({ maxDepth: 2 }),
        version: fc.integer({ min: -1, max: 3 }),
      },
      { requiredKeys: [] },
    ),
    fc.record({ execution_id: fc.oneof(fc.constant(f.execution), fc.constantFrom(...f.running), fc.uuid()) }),
    fc.record({ state: fc.oneof(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 })), fc.jsonValue()) }),
    fc.record({ name: fc.string({ maxLength: 10 }), workflow_definition_id: fc.oneof(fc.constant(f.workflow), fc.uuid()) }),
    fc.record({ parameter_values: fc.jsonValue({ maxDepth: 2 }), name: fc.string() }, { requiredKeys: [] }),
    fc.record(
      {
        name: fc.string({ maxLength: 12 }),
        url: fc.constantFrom(f.componentUrl, 'http://127.0.0.1:9', 'not a url', 'ftp://127.0.0.1/', ''),
        secret: fc.string(),
        actions: fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }),
        timeout: fc.oneof(fc.double(), fc.integer()),
      },
      { requiredKeys: [] },
    ),
    fc.record({ output: fc.jsonValue({ maxDepth: 2 }), attempt: fc.integer({ min: -1, max: 3 }) }, { requiredKeys: [] }),
    fc.record({ error: fc.jsonValue({ maxDepth: 2 }), retryable: fc.jsonValue() }, { requiredKeys: [] }),
    fc.record(
      { tasks: fc.array(fc.constantFrom('a', 'w', 'zz'), { maxLength: 2 }), input: fc.jsonValue({ maxDepth: 1 }) },
      { requiredKeys: [] },
    ),
  )
const body = (f: Fixtures): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 6, arbitrary: shaped(f).map((b) => JSON.stringify(b)) },
    { weight: 3, arbitrary: jsonText },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
    { weight: 1, arbitrary: fc.tuple(shaped(f), fc.nat()).map(([b, n]) => JSON.stringify(b).slice(0, n % 40)) },
    { weight: 1, arbitrary: fc.constantFrom('{"a":', '[', 'null', '"x"', '{"__proto__":{"polluted":1}}', '\u0000', '{}'.repeat(3)) },
    { weight: 1, arbitrary: fc.constant(OVERSIZED) },
  )

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

type Request = { route: AppRoute; method: string; path: string; headers: Record<string, string>; body: string | undefined }

function requests(routes: AppRoute[], f: Fixtures): fc.Arbitrary<Request> {
  return fc
    .record({
      route: fc.constantFrom(...routes),
      // Mostly the route's own method; now and then one it does not serve (405), or a path no route has (404).
      method: fc.oneof({ weight: 8, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
      params: fc.array(fc.tuple(param, fc.nat()), { minLength: 3, maxLength: 3 }),
      suffix: fc.oneof({ weight: 12, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/', '/x', '//', '/..%2f') }),
      query,
      headers,
      body: body(f),
    })
    .map(({ route, method, params, suffix, query, headers, body }) => {
      const verb = method || route.method
      let i = 0
      const path = fillRoute(route.path, (collection) => {
        const [value, pick] = params[i++ % params.length]!
        return value === 'fixture' ? fixtureFor(f, verb, collection, pick) : value
      })
      // Node's client sends no body with GET or HEAD.
      const sent = verb === 'GET' || verb === 'HEAD' ? undefined : body
      const withType = headers['content-type'] === '' ? (({ 'content-type': _, ...rest }) => rest)(headers) : headers
      return { route, method: verb, path: `${path}${suffix}${query}`, headers: withType, body: sent }
    })
}

describe(`${drivers[0]!.title}: fuzzing every route through a real server`, () => {
  let server: RunningServer
  let fixtures: Fixtures
  const gate = deferred()
  const test: Component = { wait: () => gate.promise.then(() => ({ released: true })) }
  const logged: string[] = []
  const statuses = new Map<number, number>()
  const pastAuth = new Map<string, number>()
  const admin = apiClient(() => server.url, { authorization: `Bearer ${TOKENS.admin}` })

  beforeAll(async () => {
    const remote = await startComponentServer({ action: () => ({ status: 202, body: {} }) })
    server = await startServer({
      port: 0,
      hostname: '127.0.0.1',
      tokens: [`viewer:${TOKENS.viewer}`, `operator:${TOKENS.operator}`, `admin:${TOKENS.admin}`, TOKENS.bare],
      graceMs: 0,
      logger: createLogger({ level: 'error', pretty: false, write: (line) => logged.push(line) }),
      harmoniaOptions: { store: createSqlStore(await drivers[0]!.open()), components: { test } },
    })
    const created = async (path: string, body: unknown) => {
      const answer = await admin('POST', path, body)
      if (answer.status !== 201) throw new Error(`POST ${path}: ${answer.status} ${answer.text}`)
      return answer.body as Record<string, string>
    }
    const tasks = [{ id: 'a', component: 'harmonia', action: 'echo', input: { n: '${input.n}' } }]
    const workflow = await created('/api/workflows', { name: 'fuzz', input: { n: { type: 'integer', default: 1 } }, tasks })
    const waiting = await created('/api/workflows', { name: 'fuzz waiting', tasks: [{ id: 'w', component: 'test', action: 'wait' }] })
    const execution = await created('/api/executions', { workflow_id: workflow.workflow_id })
    await server.harmonia.waitForExecution(execution.execution_id!)
    const running: string[] = []
    for (let i = 0; i < 5; i++) running.push((await created('/api/executions', { workflow_id: waiting.workflow_id })).execution_id!)
    const template = await created('/api/templates', { name: 'fuzz', workflow_definition_id: workflow.workflow_id })
    const checkpoint = await created('/api/checkpoints', { execution_id: execution.execution_id })
    await created('/api/components', { name: 'fuzz-remote', url: remote.url, secret: 'fuzz-secret' })
    const deletableWorkflows: string[] = []
    const deletableComponents: string[] = []
    for (let i = 0; i < 5; i++) {
      deletableWorkflows.push((await created('/api/workflows', { name: `fuzz deletable ${i}`, tasks })).workflow_id!)
      deletableComponents.push((await created('/api/components', { name: `fuzz-deletable-${i}`, url: remote.url })).name!)
    }
    fixtures = {
      workflow: workflow.workflow_id!,
      execution: execution.execution_id!,
      running,
      template: template.template_id!,
      checkpoint: checkpoint.checkpoint_id!,
      component: 'fuzz-remote',
      deletableWorkflows,
      deletableComponents,
      componentUrl: remote.url,
    }
  })

  afterAll(async () => {
    gate.resolve()
    await server?.close()
    await closeComponentServers()
  })

  it(`answers ${RUNS} random requests without a 5xx, every 4xx as problem+json`, async () => {
    const routes = appRoutes(server.harmonia)
    const check = async (request: Request) => {
      const answer = await send(server.url, request.method, request.path, request.headers, request.body)
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
      const key = `${request.route.method} ${request.route.path}`
      if (request.method === request.route.method && answer.status !== 401 && answer.status !== 403) {
        pastAuth.set(key, (pastAuth.get(key) ?? 0) + 1)
      }
      const context = `${request.method} ${request.path} ${JSON.stringify(request.headers)} ${(request.body ?? '<none>').slice(0, 300)} → ${answer.status} ${answer.text.slice(0, 300)}`
      expect(answer.status, context).toBeLessThan(500)
      if (answer.status >= 400) {
        expect(answer.headers['content-type'], context).toBe('application/problem+json')
        if (request.method === 'HEAD') return
        const problem = JSON.parse(answer.text) as Record<string, unknown>
        expect(problem.status, context).toBe(answer.status)
        for (const field of ['type', 'title', 'detail']) expect(typeof problem[field], context).toBe('string')
      }
      expect(({} as Record<string, unknown>).polluted, context).toBeUndefined()
    }
    await fc.assert(fc.asyncProperty(requests(routes, fixtures), check), { numRuns: RUNS, seed: SEED, endOnFailure: true })

    const seen = JSON.stringify([...statuses].sort((a, b) => a[0] - b[0]))
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(RUNS)
    for (const status of [200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 413, 422]) expect(statuses.has(status), seen).toBe(true)
    // Every route of the app was reached past auth, with its own method.
    const missed = routes.map((r) => `${r.method} ${r.path}`).filter((key) => !pastAuth.has(key))
    expect(missed).toEqual([])
    expect(logged.filter((line) => line.includes('request failed'))).toEqual([])
  })

  it('still answers /health and runs an execution to completion afterwards', async () => {
    const health = await fetch(`${server.url}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'healthy' })
    const workflow = await admin('POST', '/api/workflows', {
      name: 'after the fuzz',
      tasks: [
        { id: 'a', component: 'harmonia', action: 'echo', input: { n: 1 } },
        { id: 'b', component: 'harmonia', action: 'echo', depends_on: ['a'], input: '${tasks.a.output}' },
      ],
    })
    expect(workflow.status, workflow.text).toBe(201)
    const started = await admin('POST', '/api/executions', { workflow_id: workflow.body.workflow_id })
    expect(started.status, started.text).toBe(201)
    const id = started.body.execution_id as string
    let last: unknown
    await until(async () => {
      last = (await admin('GET', `/api/executions/${id}`)).body
      return (last as { status: string }).status === 'completed'
    }, 'the execution to complete')
    expect(last).toMatchObject({ status: 'completed', task_executions: { b: { status: 'completed', output: { n: 1 } } } })
  })
})
