import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/db/client.js'
import { createSqlStore } from '../../src/db/sql.store.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { createLogger } from '../../src/logger.js'
import { until } from '../support/async.js'
import { drivers, type EmptyDatabase } from '../support/db.js'
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js'

/**
 * The database becomes unreachable under a running server (API.md "Roles, audit and limits": requests that need it
 * answer 503 problem+json with Retry-After, never 500, and /ready answers 503), then comes back. The server reaches
 * Postgres through a TCP proxy that the test cuts and restores.
 */

const postgres = drivers.find((d) => d.name === 'postgres')!

describe.skipIf(postgres.skip)('the database unreachable, then back', () => {
  let database: EmptyDatabase
  let proxy: TcpProxy
  let server: RunningServer
  const logged: string[] = []

  beforeAll(async () => {
    database = await postgres.empty()
    const direct = new URL(database.location)
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) })
    const viaProxy = new URL(direct)
    viaProxy.hostname = '127.0.0.1'
    viaProxy.port = String(proxy.port)
    const store = createSqlStore(await openDatabase(viaProxy.toString(), { max: 4 }))
    const logger = createLogger({ level: 'warn', pretty: false, write: (line) => logged.push(line) })
    server = await startServer({ port: 0, hostname: '127.0.0.1', tokens: [], logger, graceMs: 0, harmoniaOptions: { store, logger } })
  })
  afterAll(async () => {
    await proxy?.restore().catch(() => {})
    await server?.close()
    await proxy?.close()
    await database?.dispose()
  })

  const call = (path: string, init?: { method?: string; body?: unknown }) =>
    fetch(server.url + path, {
      method: init?.method ?? 'GET',
      ...(init?.body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) }),
    })
  const json = async (path: string, init?: { method?: string; body?: unknown }) => {
    const response = await call(path, init)
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> }
  }
  const expectUnavailable = async (response: Awaited<ReturnType<typeof json>>) => {
    expect(response.status).toBe(503)
    expect(response.headers.get('content-type')).toContain('application/problem+json')
    expect(response.headers.get('retry-after')).toBe('5')
    expect(response.body).toMatchObject({ status: 503, title: 'Service Unavailable', detail: expect.stringContaining('database') })
  }

  it('answers 503 with Retry-After while it cannot reach the database, and recovers without half-written rows', async () => {
    const quick = await json('/api/workflows', {
      method: 'POST',
      body: { name: 'quick', tasks: [{ id: 'a', component: 'harmonia', action: 'echo', input: { v: 1 } }] },
    })
    expect(quick.status).toBe(201)
    const sleepy = await json('/api/workflows', {
      method: 'POST',
      body: { name: 'sleepy', tasks: [{ id: 'z', component: 'harmonia', action: 'sleep', input: { seconds: 3600 } }] },
    })
    const sleeping = await json('/api/executions', { method: 'POST', body: { workflow_id: sleepy.body.workflow_id } })
    expect(sleeping.status).toBe(201)
    const sleepingId = sleeping.body.execution_id as string
    await until(async () => (await json(`/api/executions/${sleepingId}`)).body.task_executions?.z?.status === 'running', 'the sleep')
    // Its sleep timer is committed too: from here on it writes nothing until canceled.
    await server.harmonia.flush()
    expect((await call('/ready')).status).toBe(200)

    await proxy.cut()
    // A new execution of a known workflow (its definition is cached: the failure is the journal's commit).
    await expectUnavailable(await json('/api/executions', { method: 'POST', body: { workflow_id: quick.body.workflow_id } }))
    // A live execution, read from the store.
    await expectUnavailable(await json(`/api/executions/${sleepingId}`))
    await expectUnavailable(await json(`/api/executions?workflow_id=${quick.body.workflow_id}`))
    expect((await call('/ready')).status).toBe(503)
    expect((await call('/health')).status).toBe(200)

    await proxy.restore()
    expect((await call('/health')).status).toBe(200)
    // postgres.js reconnects on its own.
    await until(async () => (await call('/ready')).status === 200, 'ready again', 30_000)
    // The refused execution left nothing behind.
    expect((await json(`/api/executions?workflow_id=${quick.body.workflow_id}`)).body.total).toBe(0)
    const started = await json('/api/executions', { method: 'POST', body: { workflow_id: quick.body.workflow_id } })
    expect(started.status).toBe(201)
    await until(
      async () => (await json(`/api/executions/${started.body.execution_id}`)).body.status === 'completed',
      'the new execution completes',
    )
    expect((await json(`/api/executions?workflow_id=${quick.body.workflow_id}`)).body.total).toBe(1)
    // The live execution was untouched by the outage, and takes commands again.
    expect((await json(`/api/executions/${sleepingId}/cancel`, { method: 'POST' })).status).toBe(202)
    await until(async () => (await json(`/api/executions/${sleepingId}`)).body.status === 'canceled', 'the sleeper canceled')
    // Never logged as a server error.
    expect(logged.filter((line) => line.includes('request failed'))).toEqual([])
  })
})
