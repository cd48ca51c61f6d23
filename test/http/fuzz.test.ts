/**
 * Property test of the create routes (issue 4, "Bad input"): random bodies — arbitrary JSON, arbitrary values
 * serialised, and objects shaped like the real bodies with random field values — never get a 5xx, and every 4xx is
 * RFC 9457 problem+json. Runs through `app.request()` (no socket) on the in-memory store and on PGlite, where some
 * values (lone surrogates, int4 overflows) used to fail only in SQL.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/logger.js'
import { createSqlStore } from '../../src/db/sql.store.js'
import { createHarmonia, type Harmonia, type HarmoniaOptions } from '../../src/harmonia.js'
import { createApp } from '../../src/http/app.js'
import { drivers } from '../support/db.js'

const MISSING = '01890000-0000-7000-8000-000000000000'

type Fixtures = { workflow: string; template: string; execution: string }
type Target = { method: 'POST' | 'PUT'; path: (f: Fixtures, id: string) => string }

/** Every route that takes a body. `id` is a random path id (sometimes a real one). */
const TARGETS: Record<string, Target> = {
  workflows: { method: 'POST', path: () => '/api/workflows' },
  executions: { method: 'POST', path: () => '/api/executions' },
  templates: { method: 'POST', path: () => '/api/templates' },
  checkpoints: { method: 'POST', path: () => '/api/checkpoints' },
  state: { method: 'PUT', path: (_f, id) => `/api/state/${encodeURIComponent(id)}` },
  updateWorkflow: { method: 'PUT', path: (f, id) => `/api/v1/workflows/${encodeURIComponent(id === '' ? f.workflow : id)}` },
  instantiate: { method: 'POST', path: (f, id) => `/api/templates/${encodeURIComponent(id === '' ? f.template : id)}/instantiate` },
}
const targetNames = Object.keys(TARGETS)

// --- arbitraries

const hostileKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '')
const key = fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 8 }) }, { weight: 1, arbitrary: hostileKey })
const stringUnit = fc.constantFrom<'grapheme-ascii' | 'grapheme' | 'binary'>('grapheme-ascii', 'grapheme', 'binary')
/** Any JSON value, with strings that may hold lone surrogates (`binary`). */
const jsonValue = stringUnit.chain((unit) => fc.jsonValue({ maxDepth: 3, stringUnit: unit }))
const hugeNumber = fc.constantFrom(1e308, -1e308, 2 ** 31, 2 ** 53 + 1, -0, 5e-324, 0, -1, 1.5)
/** Mostly plausible values for a field, sometimes anything. */
const field = <T>(plausible: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: plausible }, { weight: 1, arbitrary: jsonValue }, { weight: 1, arbitrary: hugeNumber })
/** Objects with hostile keys, ready to serialise. */
const record = <T>(values: fc.Arbitrary<T>) => fc.dictionary(key, values, { maxKeys: 4 })

const taskId = fc.oneof(fc.constantFrom('a', 'b', 'c', '__proto__', 'constructor', 'a b', 'é'), fc.string({ maxLength: 6 }))
const expression = fc.oneof(
  fc.constantFrom('${input.n}', '${tasks.a.output}', '${tasks.b.output.x}', '${1 +}', '${', '${params.who}', '${state.k}', 'plain'),
  fc.string({ maxLength: 12 }).map((s) => '${' + s + '}'),
)
const task = fc.record(
  {
    id: field(taskId),
    name: field(fc.string()),
    component: field(fc.constantFrom('harmonia', 'nope', '')),
    action: field(fc.constantFrom('noop', 'echo', 'fail', 'sleep', 'explode')),
    input: fc.oneof(jsonValue, expression, record(fc.oneof(expression, jsonValue))),
    depends_on: field(fc.array(taskId, { maxLength: 3 })),
    timeout: field(fc.double()),
    retry: field(
      fc.oneof(
        fc.integer({ min: -2, max: 5 }),
        fc.record(
          {
            max_attempts: field(fc.integer({ min: -1, max: 5 })),
            initial_interval: field(fc.double()),
            backoff_coefficient: field(fc.double()),
            max_interval: field(fc.double()),
            jitter: field(fc.oneof(fc.boolean(), fc.double())),
            non_retryable_errors: field(fc.array(fc.string())),
          },
          { requiredKeys: [] },
        ),
      ),
    ),
    when: field(expression),
    metadata: field(record(jsonValue)),
  },
  { requiredKeys: [] },
)
const inputField = fc.record(
  {
    type: field(fc.constantFrom('string', 'number', 'integer', 'boolean', 'object', 'array', 'date')),
    required: field(fc.boolean()),
    default: jsonValue,
    description: field(fc.string()),
  },
  { requiredKeys: [] },
)
const workflowBody = fc.record(
  {
    name: field(fc.string({ maxLength: 20 })),
    description: field(fc.string()),
    version: field(fc.oneof(fc.integer(), fc.string())),
    metadata: field(record(jsonValue)),
    input: field(record(inputField)),
    output: field(record(fc.oneof(expression, jsonValue))),
    tasks: field(fc.oneof(fc.array(task, { maxLength: 4 }), fc.dictionary(taskId, task, { maxKeys: 4 }))),
    max_concurrency: field(fc.integer({ min: -1, max: 20 })),
    timeout: field(fc.double()),
    fail_fast: field(fc.boolean()),
  },
  { requiredKeys: [] },
)
const uuidish = (real: (f: Fixtures) => string) =>
  fc.oneof(
    fc.constant(real),
    fc.constant(() => MISSING),
    fc.uuid().map((u) => () => u),
    fc.string({ maxLength: 40 }).map((s) => () => s),
  )

/** A body (as text, or undefined for none) and the route it goes to. */
type Request = { target: string; id: (f: Fixtures) => string; body: (f: Fixtures) => string | undefined; contentType: string }

const anyTarget = fc.constantFrom(...targetNames)
const pathId = fc.oneof(
  fc.constant(() => ''),
  uuidish((f) => f.execution),
)
const contentType = fc.oneof(
  { weight: 10, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/vnd.api+json', 'text/plain', '') },
)
const fixed = (text: string | undefined) => () => text

/** fc.json(): any JSON text, to any route. */
const jsonRequests: fc.Arbitrary<Request> = fc.record({
  target: anyTarget,
  id: pathId,
  body: stringUnit.chain((unit) => fc.json({ maxDepth: 4, stringUnit: unit })).map(fixed),
  contentType,
})

/** fc.anything() serialised (undefined → no body), to any route; plus truncated JSON now and then. */
const anythingRequests: fc.Arbitrary<Request> = fc.record({
  target: anyTarget,
  id: pathId,
  body: fc
    .tuple(
      fc.anything({
        maxDepth: 3,
        key,
        withNullPrototype: true,
        withObjectString: true,
        withBoxedValues: true,
        withDate: true,
        withMap: true,
        withSet: true,
      }),
      fc.nat(),
      fc.boolean(),
    )
    .map(([value, cut, truncate]) => {
      const text = JSON.stringify(value) as string | undefined
      return fixed(text !== undefined && truncate && text.length > 1 ? text.slice(0, cut % text.length) : text)
    }),
  contentType,
})

/** Bodies shaped like the real ones with random field values, each to its own route. */
const shapedRequests: fc.Arbitrary<Request> = fc.oneof(
  fc.record({
    target: fc.constantFrom('workflows', 'updateWorkflow'),
    id: pathId,
    body: workflowBody.map((b) => fixed(JSON.stringify(b))),
    contentType,
  }),
  fc.record({
    target: fc.constant('executions'),
    id: pathId,
    body: fc
      .record(
        {
          workflow_id: uuidish((f) => f.workflow),
          input: field(record(jsonValue)),
          version: field(fc.integer({ min: -1, max: 3 })),
          metadata: field(record(jsonValue)),
        },
        { requiredKeys: [] },
      )
      .map(
        ({ workflow_id, ...rest }) =>
          (f: Fixtures) =>
            JSON.stringify({ ...rest, ...(workflow_id ? { workflow_id: workflow_id(f) } : {}) }),
      ),
    contentType,
  }),
  fc.record({
    target: fc.constant('templates'),
    id: pathId,
    body: fc
      .record(
        {
          name: field(fc.string({ maxLength: 20 })),
          workflow_definition_id: uuidish((f) => f.workflow),
          parameters: field(record(inputField)),
          description: field(fc.string()),
        },
        { requiredKeys: [] },
      )
      .map(
        ({ workflow_definition_id, ...rest }) =>
          (f: Fixtures) =>
            JSON.stringify({ ...rest, ...(workflow_definition_id ? { workflow_definition_id: workflow_definition_id(f) } : {}) }),
      ),
    contentType,
  }),
  fc.record({
    target: fc.constant('instantiate'),
    id: pathId,
    body: fc
      .record({ parameter_values: field(record(jsonValue)), name: field(fc.string()) }, { requiredKeys: [] })
      .map((b) => fixed(JSON.stringify(b))),
    contentType,
  }),
  fc.record({
    target: fc.constant('checkpoints'),
    id: pathId,
    body: uuidish((f) => f.execution).map((id) => (f: Fixtures) => JSON.stringify({ execution_id: id(f) })),
    contentType,
  }),
  fc.record({
    target: fc.constant('state'),
    id: uuidish((f) => f.execution),
    body: field(record(jsonValue)).map((state) => fixed(JSON.stringify({ state }))),
    contentType,
  }),
)

type StoreSetup = { title: string; skip: boolean; options(): Promise<HarmoniaOptions> }
const stores: StoreSetup[] = [
  { title: 'memory', skip: false, options: async () => ({ database: 'memory:store' }) },
  ...drivers.map((d) => ({ title: d.title, skip: d.skip, options: async () => ({ store: createSqlStore(await d.open()) }) })),
]

for (const store of stores) {
  describe.skipIf(store.skip)(`${store.title}: fuzzing the create routes`, () => {
    let harmonia: Harmonia
    let app: ReturnType<typeof createApp>
    let fixtures: Fixtures
    const logged: string[] = []
    const statuses = new Map<number, number>()

    beforeAll(async () => {
      const logger = createLogger({ level: 'error', pretty: false, write: (line) => logged.push(line) })
      harmonia = await createHarmonia({ ...(await store.options()), logger })
      app = createApp({ harmonia, logger })
      const workflow = await harmonia.createWorkflow({
        name: 'fuzz target',
        input: { n: { type: 'integer' }, s: { type: 'string', default: 'x' } },
        output: { n: '${input.n}' },
        tasks: [
          { id: 'a', component: 'harmonia', action: 'echo', input: { all: '${input}', state: '${state}' } },
          {
            id: 'b',
            component: 'harmonia',
            action: 'echo',
            depends_on: ['a'],
            when: 'has(input.n) && input.n > 0',
            input: '${tasks.a.output}',
          },
        ],
      })
      const template = await harmonia.createTemplate({
        name: 'fuzz template',
        workflow_definition_id: (
          await harmonia.createWorkflow({
            name: 'fuzz source',
            tasks: [{ id: 'a', component: 'harmonia', action: 'echo', input: { who: '${params.who}', n: '${params.n}' } }],
          })
        ).workflow_id,
        parameters: { who: { type: 'string', required: true }, n: { type: 'integer', default: 1 } },
      })
      const execution = await harmonia.startExecution({ workflow_id: workflow.workflow_id, input: { n: 1 } })
      await harmonia.waitForExecution(execution.execution_id)
      fixtures = { workflow: workflow.workflow_id, template: template.template_id, execution: execution.execution_id }
    })

    afterAll(async () => {
      await harmonia?.close()
    })

    const check = async (request: Request) => {
      const target = TARGETS[request.target]!
      const path = target.path(fixtures, request.id(fixtures))
      const body = request.body(fixtures)
      const headers: Record<string, string> = request.contentType === '' ? {} : { 'content-type': request.contentType }
      const response = await app.request(path, { method: target.method, headers, ...(body === undefined ? {} : { body }) })
      const text = await response.text()
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
      const context = `${target.method} ${path} ${(body ?? '<none>').slice(0, 300)} → ${response.status} ${text.slice(0, 300)}`
      expect(response.status, context).toBeLessThan(500)
      if (response.status >= 400) {
        expect(response.headers.get('content-type'), context).toBe('application/problem+json')
        const problem = JSON.parse(text) as Record<string, unknown>
        expect(problem.status, context).toBe(response.status)
        expect(typeof problem.type, context).toBe('string')
        expect(typeof problem.title, context).toBe('string')
        expect(typeof problem.detail, context).toBe('string')
        if (response.status === 422) expect(Array.isArray(problem.errors), context).toBe(true)
      } else {
        expect(response.headers.get('content-type'), context).toMatch(/^application\/json/)
        JSON.parse(text)
      }
      expect(({} as Record<string, unknown>).polluted, context).toBeUndefined()
    }

    it('fc.json() bodies to every route: never a 5xx, 4xx as problem+json', async () => {
      await fc.assert(fc.asyncProperty(jsonRequests, check), { numRuns: 250 })
    })

    it('fc.anything() serialised (and truncated) to every route', async () => {
      await fc.assert(fc.asyncProperty(anythingRequests, check), { numRuns: 250 })
    })

    it('bodies shaped like workflows, executions, templates, checkpoints and state with random values', async () => {
      await fc.assert(fc.asyncProperty(shapedRequests, check), { numRuns: 500 })
    })

    it('saw a mix of outcomes, no 500 logged, nothing polluted, and the engine still works', async () => {
      const total = [...statuses.values()].reduce((a, b) => a + b, 0)
      expect(total).toBeGreaterThanOrEqual(1000)
      expect(
        [...statuses.keys()].some((s) => s < 300),
        JSON.stringify([...statuses]),
      ).toBe(true)
      expect([...statuses.keys()].some((s) => s === 422)).toBe(true)
      expect([...statuses.keys()].some((s) => s === 400)).toBe(true)
      expect(logged.filter((line) => line.includes('request failed'))).toEqual([])
      expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted')
      // Version 1: fuzzed PUTs may have stored later versions that are valid but fail by design (harmonia.fail, a
      // condition that is not boolean at run time).
      const execution = await harmonia.startExecution({ workflow_id: fixtures.workflow, version: 1, input: { n: 2 } })
      expect((await harmonia.waitForExecution(execution.execution_id)).status).toBe('completed')
      const health = await app.request('/health')
      expect(health.status).toBe(200)
    })
  })
}
