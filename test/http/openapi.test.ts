/**
 * OpenAPI (issue 4, "OpenAPI"): GET /openapi.json validates as OpenAPI 3.1 (with @seriousme/openapi-schema-validator)
 * and lists every route of API.md — compared with an explicit list — and nothing the server does not serve; GET /docs
 * is a page that loads nothing from other hosts.
 */
import { Validator } from '@seriousme/openapi-schema-validator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { operationAnchor } from '../../src/http/docs-page.js'
import { REQUEST_BODIES } from '../../src/http/schemas.js'
import { startServer, type RunningServer } from '../../src/http/server.js'

/** The REST routes of API.md, relative to /api (each is also mounted under /api/v1). */
const API_ROUTES = [
  'POST /workflows',
  'GET /workflows',
  'GET /workflows/{id}',
  'PUT /workflows/{id}',
  'DELETE /workflows/{id}',
  'POST /executions',
  'GET /executions',
  'GET /executions/{id}',
  'POST /executions/{id}/cancel',
  'POST /executions/{id}/pause',
  'POST /executions/{id}/resume',
  'GET /executions/{id}/history',
  'POST /templates',
  'GET /templates',
  'GET /templates/{id}',
  'POST /templates/{id}/instantiate',
  'GET /state/{execution_id}',
  'PUT /state/{execution_id}',
  'POST /checkpoints',
  'GET /checkpoints',
  'GET /checkpoints/{id}',
  'POST /checkpoints/{id}/restore',
  // Part 2: components and their callbacks.
  'POST /components',
  'GET /components',
  'GET /components/{name}',
  'PUT /components/{name}',
  'DELETE /components/{name}',
  'GET /components/{name}/health',
  'POST /executions/{id}/tasks/{task_id}/complete',
  'POST /executions/{id}/tasks/{task_id}/fail',
  // Part 2: signals and the audit trail.
  'POST /executions/{id}/signals/{name}',
  'GET /executions/{id}/signals',
  'GET /audit',
  'GET /nodes',
  // Part 2: versions.
  'GET /workflows/{id}/versions',
  'GET /workflows/{id}/schedules',
  'PUT /templates/{id}',
  'DELETE /templates/{id}',
  // Part 2: event subscriptions (webhooks).
  'POST /subscriptions',
  'GET /subscriptions',
  'DELETE /subscriptions/{id}',
]
/** Served beyond API.md (and documented): rerun, and issue 4's stream of every execution for dashboards. */
const EXTRA_API_ROUTES = ['POST /executions/{id}/rerun', 'GET /subscriptions/{id}']
const OTHER_ROUTES = [
  'GET /events/executions',
  'GET /events/executions/{id}',
  'GET /ws/executions/{id}',
  'GET /health',
  'GET /ready',
  'GET /metrics',
  'GET /openapi.json',
  'GET /docs',
]

const withPrefixes = (routes: string[]) =>
  routes.flatMap((route) => {
    const [method, path] = route.split(' ') as [string, string]
    return [`${method} /api${path}`, `${method} /api/v1${path}`]
  })
const EXPECTED = [...withPrefixes([...API_ROUTES, ...EXTRA_API_ROUTES]), ...OTHER_ROUTES].sort()
const UNPROTECTED = ['GET /health', 'GET /ready']

type Operation = {
  summary?: string
  parameters?: { name: string; in: string; required?: boolean }[]
  requestBody?: { content: Record<string, unknown> }
  responses: Record<string, unknown>
  security?: unknown[]
}
type Document = {
  openapi: string
  info: { title: string; version: string }
  paths: Record<string, Record<string, Operation>>
  security?: unknown[]
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> }
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'])
const operationsOf = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.has(method))
      .map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, path, method, operation })),
  )

describe('GET /openapi.json', () => {
  let server: RunningServer
  let doc: Document

  beforeAll(async () => {
    server = await startServer({ port: 0, hostname: '127.0.0.1', tokens: [], harmoniaOptions: { database: 'memory:store' } })
    const response = await fetch(`${server.url}/openapi.json`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    doc = (await response.json()) as Document
  })
  afterAll(async () => {
    await server?.close()
  })

  it('validates as OpenAPI 3.1', async () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/)
    const validator = new Validator()
    const result = await validator.validate(structuredClone(doc))
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 1)?.slice(0, 2000)).toEqual([])
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
    expect(doc.info).toMatchObject({ title: 'Harmonia', version: expect.any(String) })
  })

  it('lists exactly the routes of API.md (under /api and /api/v1), the streams, health, the spec and the docs', () => {
    expect(
      operationsOf(doc)
        .map((o) => o.route)
        .sort(),
    ).toEqual(EXPECTED)
  })

  it('resolves every $ref to a component', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!)
    expect(refs.length).toBeGreaterThan(10)
    for (const ref of new Set(refs)) {
      const match = /^#\/components\/schemas\/(\w+)$/.exec(ref)
      expect(match, ref).not.toBeNull()
      expect(doc.components.schemas, ref).toHaveProperty(match![1]!)
    }
  })

  it('documents path parameters, request bodies, problem responses and bearer security', () => {
    expect(doc.components.securitySchemes).toMatchObject({ bearer: { type: 'http', scheme: 'bearer' } })
    expect(doc.security).toEqual([{ bearer: [] }])
    for (const { route, path, method, operation } of operationsOf(doc)) {
      for (const name of [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!)) {
        expect(
          operation.parameters?.find((p) => p.in === 'path' && p.name === name),
          `${route}: {${name}}`,
        ).toMatchObject({ required: true })
      }
      const takesBody = (method === 'post' || method === 'put') && !/\/(cancel|pause|resume|rerun|restore)$/.test(path)
      if (takesBody) expect(operation.requestBody?.content, route).toHaveProperty(['application/json'])
      const statuses = Object.keys(operation.responses)
      expect(
        statuses.some((s) => /^[12]\d\d$/.test(s)),
        route,
      ).toBe(true)
      if (UNPROTECTED.includes(route)) {
        expect(operation.security, route).toEqual([])
      } else {
        expect(operation.security, route).toBeUndefined()
        expect(statuses, route).toContain('401')
        expect(JSON.stringify(operation.responses['401']), route).toContain('application/problem+json')
      }
    }
  })

  it('documents every request body by a component of schemas.ts, and each of those is some route’s body', () => {
    const used = new Set<string>()
    for (const { route, operation } of operationsOf(doc)) {
      const schema = (operation.requestBody?.content['application/json'] as { schema?: { $ref?: string } } | undefined)?.schema
      if (!schema) continue
      expect(schema.$ref, route).toMatch(/^#\/components\/schemas\/\w+$/)
      used.add(schema.$ref!.split('/').pop()!)
    }
    expect([...used].sort()).toEqual(Object.keys(REQUEST_BODIES).sort())
    expect(doc.components.schemas.SaveState).toEqual({
      type: 'object',
      properties: { state: { type: 'object', description: expect.any(String) } },
      required: ['state'],
    })
  })

  it('documents the component and callback routes: their bodies, answers and errors', () => {
    const route = (method: string, path: string) => doc.paths[`/api${path}`]![method]!
    const schemaOf = (o: Operation, status: string) => JSON.stringify(o.responses[status])
    expect(schemaOf(route('post', '/components'), '201')).toContain('#/components/schemas/Component"')
    expect(Object.keys(route('post', '/components').responses)).toEqual(expect.arrayContaining(['401', '409', '422']))
    expect(schemaOf(route('get', '/components'), '200')).toContain('"type":"array"')
    for (const [method, path] of [
      ['get', '/components/{name}'],
      ['get', '/components/{name}/health'],
    ] as const) {
      expect(Object.keys(route(method, path).responses), path).toEqual(expect.arrayContaining(['401', '404', '503']))
      expect(route(method, path).parameters, path).toEqual([{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }])
    }
    expect(Object.keys(route('delete', '/components/{name}').responses)).toEqual(expect.arrayContaining(['204', '404', '409']))
    expect(schemaOf(route('get', '/components/{name}/health'), '200')).toContain('#/components/schemas/ComponentHealth"')
    for (const outcome of ['complete', 'fail']) {
      const o = route('post', `/executions/{id}/tasks/{task_id}/${outcome}`)
      expect(schemaOf(o, '200'), outcome).toContain('#/components/schemas/CallbackAnswer"')
      expect(Object.keys(o.responses), outcome).toEqual(expect.arrayContaining(['401', '404', '409', '422']))
    }
    expect(Object.keys(route('post', '/workflows').responses)).toContain('503')
    expect(doc.components.schemas.CallbackAnswer).toMatchObject({ required: ['accepted', 'task_id', 'status'] })
    expect(doc.components.schemas.Component).toMatchObject({
      properties: { source: { enum: ['builtin', 'embedded', 'api', 'config', 'hermes'] }, has_secret: { type: 'boolean' } },
    })
    expect(JSON.stringify(doc.components.schemas.Component)).not.toContain('"secret"')
    expect(doc.components.schemas.FailTask).toMatchObject({ required: ['error'] })
    expect(doc.components.schemas.CreateComponent).toMatchObject({ required: ['name', 'url'] })
  })

  it('documents no route the server does not serve', async () => {
    const missing = '01890000-0000-7000-8000-000000000000'
    for (const { route, path, method } of operationsOf(doc)) {
      if (path.startsWith('/ws/')) continue // an upgrade, tested in auth.test.ts
      const response = await fetch(server.url + path.replace(/\{\w+\}/g, missing), {
        method: method.toUpperCase(),
        ...(method === 'post' || method === 'put' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
      })
      expect(response.status, route).toBeLessThan(500)
      if (response.status === 404) expect(await response.text(), route).not.toMatch(/no route for/)
      else await response.body?.cancel() // GET /events/executions streams until the client leaves
    }
  })
})

describe('GET /docs', () => {
  let server: RunningServer
  let html: string

  beforeAll(async () => {
    server = await startServer({ port: 0, hostname: '127.0.0.1', tokens: [], harmoniaOptions: { database: 'memory:store' } })
    const response = await fetch(`${server.url}/docs`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/html/)
    html = await response.text()
  })
  afterAll(async () => {
    await server?.close()
  })

  it('is an HTML page describing every route', () => {
    expect(html).toMatch(/^<!doctype html>/i)
    expect(html).toContain('</html>')
    for (const route of [...API_ROUTES.map((r) => r.replace(' ', ' /api')), ...OTHER_ROUTES]) {
      const [method, path] = route.split(' ') as [string, string]
      expect(html, route).toContain(
        `id="${operationAnchor(method.toLowerCase(), path)}"><h3><span class="method ${method.toLowerCase()}">${method}</span> <code>${path}</code>`,
      )
    }
    expect(html).toContain('/api/v1')
    expect(html).toContain('href="/openapi.json"')
  })

  it('loads nothing from other hosts', () => {
    // No absolute or protocol-relative URL in src, href, srcset, action or CSS url()/@import.
    const attributes = [...html.matchAll(/\b(src|href|srcset|action|data|poster)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/gi)].map(
      (m) => m[3] ?? m[4] ?? m[5] ?? '',
    )
    for (const value of attributes) expect(value, value).not.toMatch(/^\s*(?:[a-z][a-z0-9+.-]*:|\/\/)/i)
    expect(html).not.toMatch(/url\(\s*['"]?\s*(?:https?:)?\/\//i)
    expect(html).not.toMatch(/@import/i)
    // Any script is inline or served by Harmonia (none today).
    for (const script of html.matchAll(/<script\b[^>]*>/gi)) expect(script[0]).not.toMatch(/src\s*=\s*["']?\s*(?:https?:)?\/\//i)
    expect(html).not.toMatch(/https?:\/\/(?!harmonia\.dev\/problems)/i)
  })
})
