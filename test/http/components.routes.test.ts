import { randomUUID } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Harmonia } from '../../src/harmonia.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { apiClient } from '../support/api.js'
import { closeComponentServers, hmac, startComponentServer, unusedUrl } from '../support/component-server.js'
import { drivers, type EmptyDatabase } from '../support/db.js'
import { describeEachStore, testEngine } from '../support/harness.js'

/**
 * `/api/components` (API.md "Remote components") through a real listening server: the Component shape, name
 * conflicts across sources, replace and delete, every source listed, validation naming the field, and health probes
 * against real component servers. The databases of a block are shared: each test uses names of its own.
 */

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const PROBLEM = 'application/problem+json'
const COMPONENT_KEYS = [
  'name',
  'url',
  'actions',
  'description',
  'timeout',
  'metadata',
  'source',
  'has_secret',
  'enabled',
  'created_at',
  'updated_at',
].sort()

let server: RunningServer | undefined
let engine: Awaited<ReturnType<typeof testEngine>>
let harmonia: Harmonia
const call = apiClient(() => server!.url)
const unique = (base: string) => `${base}-${randomUUID().slice(0, 8)}`

afterEach(async () => {
  await server?.close()
  server = undefined
  await harmonia?.close()
  await closeComponentServers()
})

async function serve(options: Parameters<typeof testEngine>[0] = {}) {
  engine = await testEngine({
    enableShell: false,
    components: { ergon: { execute_command: () => ({ ok: true }) } },
    ...options,
  })
  harmonia = engine.harmonia
  server = await startServer({ harmonia, port: 0, hostname: '127.0.0.1', tokens: [] })
}

describeEachStore('components API', () => {
  beforeEach(async () => {
    await serve()
  })

  it('POST answers 201 with the Component shape and never the secret; GET returns the same', async () => {
    const name = unique('prometheus')
    const secret = `s3cret-${randomUUID()}`
    const created = await call('POST', '/api/components', {
      name,
      url: 'http://127.0.0.1:9/prom',
      actions: ['analyze_results', 'forecast'],
      secret,
      timeout: 30,
      description: 'Prometheus analysis',
      metadata: { team: 'tekton' },
    })
    expect(created.status).toBe(201)
    expect(Object.keys(created.body).sort()).toEqual(COMPONENT_KEYS)
    expect(created.body).toEqual({
      name,
      url: 'http://127.0.0.1:9/prom',
      actions: ['analyze_results', 'forecast'],
      description: 'Prometheus analysis',
      timeout: 30,
      metadata: { team: 'tekton' },
      source: 'api',
      has_secret: true,
      enabled: true,
      created_at: expect.stringMatching(ISO),
      updated_at: created.body.created_at,
    })
    expect(created.text).not.toContain(secret)

    const got = await call('GET', `/api/components/${name}`)
    expect(got.status).toBe(200)
    expect(got.body).toEqual(created.body)
    expect(got.text).not.toContain(secret)
    expect((await call('GET', `/api/v1/components/${name}`)).body).toEqual(created.body)

    // The optional fields default: any action, no secret, no timeout, empty description and metadata.
    const bare = await call('POST', '/api/components', { name: unique('bare'), url: 'https://bare.example/' })
    expect(bare.status).toBe(201)
    expect(bare.body).toMatchObject({ actions: null, has_secret: false, timeout: null, description: '', metadata: {}, source: 'api' })
  })

  it('POST with a name another component holds answers 409 problem+json, whatever its source', async () => {
    const name = unique('taken')
    expect((await call('POST', '/api/components', { name, url: 'http://127.0.0.1:9' })).status).toBe(201)
    harmonia.registerComponent({ name: `${name}-remote-embedded`, url: 'http://127.0.0.1:9' })
    for (const taken of [name, 'shell', 'harmonia', 'http', 'ergon', `${name}-remote-embedded`]) {
      const answer = await call('POST', '/api/components', { name: taken, url: 'http://127.0.0.1:10' })
      expect(answer.status, taken).toBe(409)
      expect(answer.type).toContain(PROBLEM)
      expect(answer.body).toMatchObject({ status: 409, detail: expect.stringContaining(taken) })
    }
    // Nothing was replaced.
    expect((await call('GET', `/api/components/${name}`)).body.url).toBe('http://127.0.0.1:9')
    expect((await call('GET', '/api/components/shell')).body.source).toBe('builtin')
  })

  it('PUT replaces an API component (created_at kept, updated_at moves) and creates a new name', async () => {
    const name = unique('rhetor')
    const created = (await call('POST', '/api/components', { name, url: 'http://127.0.0.1:9', secret: 'a-secret', actions: ['chat'] })).body
    engine.clock.increment(5_000)
    const replaced = await call('PUT', `/api/components/${name}`, { url: 'http://127.0.0.1:10/v2', description: 'v2' })
    expect(replaced.status).toBe(200)
    // The whole component is replaced: what the PUT left out is back to its default (no secret, any action).
    expect(replaced.body).toEqual({
      ...created,
      url: 'http://127.0.0.1:10/v2',
      description: 'v2',
      actions: null,
      has_secret: false,
      created_at: created.created_at,
      updated_at: expect.stringMatching(ISO),
    })
    expect(Date.parse(replaced.body.updated_at) - Date.parse(created.created_at)).toBe(5_000)
    expect((await call('GET', `/api/components/${name}`)).body).toEqual(replaced.body)

    // A name in the body must be the path's.
    const mismatch = await call('PUT', `/api/components/${name}`, { name: 'other', url: 'http://127.0.0.1:10' })
    expect(mismatch.status).toBe(422)
    expect(mismatch.body.errors).toEqual([expect.objectContaining({ path: 'name' })])

    const fresh = unique('fresh')
    const put = await call('PUT', `/api/components/${fresh}`, { url: 'http://127.0.0.1:11', actions: ['a'] })
    expect(put.status).toBe(200)
    expect(put.body).toMatchObject({ name: fresh, url: 'http://127.0.0.1:11', actions: ['a'], source: 'api' })
    expect(put.body.created_at).toBe(put.body.updated_at)
    expect((await call('GET', `/api/components/${fresh}`)).body).toEqual(put.body)
  })

  it('PUT and DELETE of a built-in or an embedded component answer 409; DELETE of an API one 204, then 404', async () => {
    for (const name of ['shell', 'harmonia', 'http', 'ergon']) {
      const put = await call('PUT', `/api/components/${name}`, { url: 'http://127.0.0.1:9' })
      expect(put.status, `PUT ${name}`).toBe(409)
      expect(put.type).toContain(PROBLEM)
      const del = await call('DELETE', `/api/components/${name}`)
      expect(del.status, `DELETE ${name}`).toBe(409)
      expect(del.type).toContain(PROBLEM)
    }
    expect((await call('GET', '/api/components/shell')).body).toMatchObject({ name: 'shell', source: 'builtin', url: null })

    const name = unique('gone')
    await call('POST', '/api/components', { name, url: 'http://127.0.0.1:9' })
    const deleted = await call('DELETE', `/api/components/${name}`)
    expect(deleted.status).toBe(204)
    expect(deleted.text).toBe('')
    const missing = await call('GET', `/api/components/${name}`)
    expect(missing.status).toBe(404)
    expect(missing.type).toContain(PROBLEM)
    expect((await call('DELETE', `/api/components/${name}`)).status).toBe(404)
    expect((await call('GET', '/api/components')).body.map((c: { name: string }) => c.name)).not.toContain(name)
    // The name is free again.
    expect((await call('POST', '/api/components', { name, url: 'http://127.0.0.1:12' })).status).toBe(201)
  })

  it('GET /api/components lists every source: built-ins (shell disabled), embedded and API components', async () => {
    const name = unique('telos')
    harmonia.registerComponent({ name: `${name}-embedded`, url: 'http://127.0.0.1:13', actions: ['x'] })
    await call('POST', '/api/components', { name, url: 'http://127.0.0.1:9', secret: 'x-secret' })
    const list = await call('GET', '/api/components')
    expect(list.status).toBe(200)
    const byName = new Map<string, Record<string, unknown>>(list.body.map((c: { name: string }) => [c.name, c]))
    for (const component of byName.values()) expect(Object.keys(component).sort()).toEqual(COMPONENT_KEYS)
    expect(byName.get('harmonia')).toMatchObject({ source: 'builtin', enabled: true, url: null, has_secret: false })
    expect(byName.get('harmonia')!.actions).toEqual(expect.arrayContaining(['noop', 'echo', 'sleep', 'fail']))
    expect(byName.get('shell')).toMatchObject({ source: 'builtin', enabled: false, actions: ['execute_command'] })
    expect(byName.get('http')).toMatchObject({ source: 'builtin', enabled: true, actions: ['request'] })
    expect(byName.get('ergon')).toMatchObject({ source: 'embedded', enabled: true, actions: ['execute_command'], url: null })
    expect(byName.get(`${name}-embedded`)).toMatchObject({ source: 'embedded', url: 'http://127.0.0.1:13', actions: ['x'] })
    expect(byName.get(name)).toMatchObject({ source: 'api', url: 'http://127.0.0.1:9', has_secret: true })
    expect(list.text).not.toContain('x-secret')
  })

  it('bad bodies answer 422 naming the field', async () => {
    const valid = { name: unique('valid'), url: 'http://127.0.0.1:9' }
    const cases: Array<[string, Record<string, unknown>]> = [
      ['url', { url: 'relative/path' }],
      ['url', { url: 'http://127.0.0.1:9/?key=1' }],
      ['url', { url: 'http://127.0.0.1:9/#frag' }],
      ['url', { url: 'ftp://127.0.0.1/' }],
      ['url', { url: undefined }],
      ['actions', { actions: [] }],
      ['actions', { actions: ['a', 'a'] }],
      ['actions', { actions: 'a' }],
      ['timeout', { timeout: -1 }],
      ['timeout', { timeout: 0 }],
      ['timeout', { timeout: '30' }],
      ['name', { name: 'bad name!' }],
      ['name', { name: '' }],
      ['name', { name: 'x'.repeat(101) }],
      ['secret', { secret: 42 }],
      ['secret', { secret: '' }],
      ['metadata', { metadata: [1] }],
    ]
    for (const [field, change] of cases) {
      const answer = await call('POST', '/api/components', { ...valid, ...change })
      const what = `${field} ${JSON.stringify(change)}`
      expect(answer.status, what).toBe(422)
      expect(answer.type, what).toContain(PROBLEM)
      expect(
        answer.body.errors.map((e: { path: string }) => e.path.split(/[.[]/)[0]),
        what,
      ).toContain(field)
      // PUT validates the same fields (its name is the path's).
      if (field !== 'name') {
        const put = await call('PUT', `/api/components/${valid.name}`, { url: valid.url, ...change })
        expect(put.status, `PUT ${what}`).toBe(422)
        expect(
          put.body.errors.map((e: { path: string }) => e.path.split(/[.[]/)[0]),
          `PUT ${what}`,
        ).toContain(field)
      }
    }
    const badPath = await call('PUT', '/api/components/bad%20name!', { url: valid.url })
    expect(badPath.status).toBe(422)
    expect(badPath.body.errors.map((e: { path: string }) => e.path)).toContain('name')
    const notObject = await call('POST', '/api/components', [valid])
    expect(notObject.status).toBe(422)
    expect((await call('POST', '/api/components', undefined, { raw: '{"name":' })).status).toBe(400)
    // None of them was stored.
    expect((await call('GET', `/api/components/${valid.name}`)).status).toBe(404)
  })

  it('GET /api/components/{name}/health probes GET {url}/health: 200, 503, nothing listening; 404 for an unknown name', async () => {
    const up = await startComponentServer()
    const down = await startComponentServer({ health: () => ({ status: 503, body: { status: 'unhealthy' } }) })
    const names = { up: unique('up'), down: unique('down'), away: unique('away') }
    await call('POST', '/api/components', { name: names.up, url: `${up.url}/` })
    await call('POST', '/api/components', { name: names.down, url: down.url })
    await call('POST', '/api/components', { name: names.away, url: await unusedUrl() })

    const healthy = await call('GET', `/api/components/${names.up}/health`)
    expect(healthy.status).toBe(200)
    expect(healthy.body).toEqual({ name: names.up, healthy: true, status_code: 200, latency_ms: expect.any(Number) })
    expect(healthy.body.latency_ms).toBeGreaterThanOrEqual(0)
    expect(up.healthChecks).toBe(1)

    const unhealthy = await call('GET', `/api/components/${names.down}/health`)
    expect(unhealthy.status).toBe(200)
    expect(unhealthy.body).toMatchObject({ name: names.down, healthy: false, status_code: 503, error: 'GET /health answered 503' })

    const unreachable = await call('GET', `/api/components/${names.away}/health`)
    expect(unreachable.status).toBe(200)
    expect(unreachable.body).toMatchObject({ name: names.away, healthy: false, error: expect.any(String) })
    expect(unreachable.body.error).not.toBe('')
    expect(unreachable.body).not.toHaveProperty('status_code')

    // In-process components answer for themselves.
    expect((await call('GET', '/api/components/harmonia/health')).body).toEqual({ name: 'harmonia', healthy: true })

    const unknown = await call('GET', `/api/components/${unique('nobody')}/health`)
    expect(unknown.status).toBe(404)
    expect(unknown.type).toContain(PROBLEM)
  })
})

describe('components API: the shell enabled', () => {
  it('lists shell with enabled: true', async () => {
    await serve({ enableShell: true })
    const shell = (await call('GET', '/api/components')).body.find((c: { name: string }) => c.name === 'shell')
    expect(shell).toMatchObject({ source: 'builtin', enabled: true })
  })
})

for (const driver of drivers) {
  describe.skipIf(driver.skip)(`${driver.title}: API components survive a restart`, () => {
    let database: EmptyDatabase | undefined
    afterEach(async () => {
      await database?.dispose()
      database = undefined
    })

    it('are listed, described and signed with their secret by the next engine on the same database', async () => {
      database = await driver.empty()
      const secret = `kept-${randomUUID()}`
      const component = await startComponentServer({ action: () => ({ status: 200, body: { output: { ok: true } } }) })
      const start = async () => {
        server = await startServer({ port: 0, hostname: '127.0.0.1', tokens: [], harmoniaOptions: { database: database!.location } })
        harmonia = server.harmonia
      }
      await start()
      const created = await call('POST', '/api/components', { name: 'kept', url: component.url, secret, actions: ['run'], timeout: 7 })
      expect(created.status).toBe(201)
      await call('POST', '/api/components', { name: 'dropped', url: component.url })
      expect((await call('DELETE', '/api/components/dropped')).status).toBe(204)
      await server!.close()

      await start()
      const list = (await call('GET', '/api/components')).body as Array<{ name: string; source: string }>
      expect(list.filter((c) => c.source === 'api')).toEqual([created.body])
      expect((await call('GET', '/api/components/kept')).body).toEqual(created.body)
      expect((await call('GET', '/api/components/dropped')).status).toBe(404)

      // The secret was stored too: the reopened engine signs its calls with it.
      const wf = (await call('POST', '/api/workflows', { name: 'after-restart', tasks: [{ id: 't', component: 'kept', action: 'run' }] }))
        .body
      const ex = (await call('POST', '/api/executions', { workflow_id: wf.workflow_id })).body
      expect((await harmonia.waitForExecution(ex.execution_id)).status).toBe('completed')
      const [sent] = component.calls
      const timestamp = sent!.headers['x-harmonia-timestamp'] as string
      expect(sent!.headers['x-harmonia-signature']).toBe(hmac(secret, timestamp, sent!.raw))
    })
  })
}
