import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { getHarmoniaClient, HarmoniaApiError, type Component, type HarmoniaClient } from '../../src/client/index.js'
import type { ComponentDescription } from '../../src/model/components.js'
import type { RunningServer } from '../../src/http/server.js'
import { closeComponentServers, startComponentServer, unusedUrl } from '../support/component-server.js'
import { startTestServer } from './server.js'

/** The component methods of the client against a real server and a real remote component (API.md "Remote components"). */

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

let server: RunningServer
let client: HarmoniaClient
beforeAll(async () => {
  server = await startTestServer()
  client = getHarmoniaClient({ url: server.url })
})
afterAll(async () => {
  await closeComponentServers()
  await server.close()
})

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e as HarmoniaApiError,
  )

describe('components', () => {
  it("the client's Component type holds what the server sends", () => {
    expectTypeOf<ComponentDescription>().toExtend<Component>()
  })

  it('registerComponent, getComponent, listComponents, replaceComponent, componentHealth, deleteComponent', async () => {
    const remote = await startComponentServer({ health: () => ({ status: 200, body: { status: 'healthy' } }) })
    const registered = await client.registerComponent({
      name: 'client-remote',
      url: remote.url,
      actions: ['analyze'],
      secret: 'not-returned',
      timeout: 5,
      description: 'a test component',
    })
    expect(registered).toMatchObject({
      name: 'client-remote',
      url: remote.url,
      actions: ['analyze'],
      description: 'a test component',
      timeout: 5,
      metadata: {},
      source: 'api',
      has_secret: true,
    })
    expect(registered.created_at).toMatch(ISO)
    expect(JSON.stringify(registered)).not.toContain('not-returned')
    expect(await client.getComponent('client-remote')).toEqual(registered)

    const all = await client.listComponents()
    expect(all.map((c) => c.name)).toEqual(expect.arrayContaining(['harmonia', 'http', 'client-remote']))
    expect(all.find((c) => c.name === 'harmonia')).toMatchObject({ source: 'builtin', url: null, has_secret: false })

    const taken = await rejection(client.registerComponent({ name: 'client-remote', url: remote.url }))
    expect(taken).toMatchObject({ name: 'HarmoniaApiError', status: 409 })

    const replaced = await client.replaceComponent('client-remote', { url: remote.url })
    expect(replaced).toMatchObject({ name: 'client-remote', actions: null, has_secret: false, timeout: null })

    const health = await client.componentHealth('client-remote')
    expect(health).toMatchObject({ name: 'client-remote', healthy: true, status_code: 200 })
    expect(health.latency_ms).toBeGreaterThanOrEqual(0)
    expect(remote.healthChecks).toBe(1)

    await client.deleteComponent('client-remote')
    expect(await rejection(client.getComponent('client-remote'))).toMatchObject({ status: 404 })
    expect(await rejection(client.deleteComponent('harmonia'))).toMatchObject({ status: 409 })
  })

  it('componentHealth answers unhealthy for a component that cannot be reached, 404 for an unknown name', async () => {
    await client.registerComponent({ name: 'client-gone', url: await unusedUrl() })
    const health = await client.componentHealth('client-gone')
    expect(health).toMatchObject({ name: 'client-gone', healthy: false })
    expect(health.error).toEqual(expect.any(String))
    expect(await rejection(client.componentHealth('no-such-component'))).toMatchObject({ status: 404 })
    const invalid = await rejection(client.registerComponent({ name: 'client-bad', url: 'not a url' }))
    expect(invalid).toBeInstanceOf(HarmoniaApiError)
    expect(invalid!.status).toBe(422)
    expect(invalid!.errors.map((e) => e.path)).toContain('url')
  })
})
