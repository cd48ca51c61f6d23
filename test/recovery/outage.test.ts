import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { until } from '../support/async.js'
import { cleanEnv, freePort, request, startNode, stop, type Child } from '../support/processes.js'
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js'

/**
 * A Postgres outage under one running server (API.md "Roles, audit and limits" and "Several nodes"): a Harmonia
 * process (src/main.ts) on a Postgres cluster of the test's own runs 20 executions of 8 chained sleeps; Postgres is
 * stopped for 10 s mid-run and started again.
 * - While it is down, the requests that need it answer 503 problem+json with Retry-After, /ready too; never 500, and
 *   the process stays up.
 * - Once it is back, every execution completes without a restart of Harmonia, each task completed exactly once.
 *   The node re-claims its executions from the store as soon as the database answers again (services/ownership.ts).
 */

const EXECUTIONS = 20
const TASKS = 8
const OUTAGE_MS = 10_000

const chain = {
  name: 'outage-chain',
  tasks: Array.from({ length: TASKS }, (_, i) => ({
    id: `t${i}`,
    component: 'harmonia',
    action: 'sleep',
    input: { seconds: 0.5 },
    ...(i === 0 ? {} : { depends_on: [`t${i - 1}`] }),
  })),
}

type Answer = { what: string; status: number; contentType: string | null; retryAfter: string | null; body: any }

describe('a Postgres outage under a running server', () => {
  let pg: PrivatePostgres
  let server: Child
  let base: string
  let workflowId: string
  const ids: string[] = []

  const call = async (what: string, path: string, body?: unknown): Promise<Answer> => {
    const response = await fetch(base + path, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    })
    const text = await response.text()
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = text
    }
    return {
      what,
      status: response.status,
      contentType: response.headers.get('content-type'),
      retryAfter: response.headers.get('retry-after'),
      body: parsed,
    }
  }

  beforeAll(async () => {
    pg = await startPrivatePostgres()
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    server = startNode(['src/main.ts'], cleanEnv({ DATABASE_URL: pg.url, HARMONIA_PORT: String(port) }))
    await server.waitFor(/listening on/, 'the server')
    const created = await request(`${base}/api/workflows`, { body: chain })
    expect(created.status, created.text).toBe(201)
    workflowId = created.body.workflow_id
    for (let i = 0; i < EXECUTIONS; i++) {
      const started = await request(`${base}/api/executions`, { body: { workflow_id: workflowId } })
      expect(started.status, started.text).toBe(201)
      ids.push(started.body.execution_id)
    }
  }, 180_000)

  afterAll(async () => {
    if (server) await stop(server)
    await pg?.dispose()
  })

  it('answers 503 problem+json with Retry-After while Postgres is down (never 500), and is ready again after', async () => {
    // Mid-run: every execution has started its chain, and most have not finished it (4 s each on a quiet machine).
    await until(
      async () => {
        const rows = await Promise.all(ids.map(async (id) => (await request(`${base}/api/executions/${id}`)).body?.status))
        return rows.every((s) => s === 'running' || s === 'completed') && rows.filter((s) => s === 'running').length >= EXECUTIONS / 2
      },
      'the executions mid-run',
      60_000,
    )
    expect((await call('ready', '/ready')).status).toBe(200)

    await pg.stop()
    // The outage lasts OUTAGE_MS: requests go on meanwhile, in turn, and every answer is kept.
    const during: Answer[] = []
    const upUntil = Date.now() + OUTAGE_MS
    for (let i = 0; Date.now() < upUntil; i++) {
      during.push(
        ...(await Promise.all([
          call('POST /api/executions', '/api/executions', { workflow_id: workflowId }),
          call('GET /api/executions/{id}', `/api/executions/${ids[i % ids.length]}`),
          call('GET /ready', '/ready'),
        ])),
      )
    }
    await pg.start()

    // Each kind of request was answered at least once while the database was down, and only ever with a 503.
    for (const what of ['POST /api/executions', 'GET /api/executions/{id}', 'GET /ready']) {
      expect(during.filter((a) => a.what === what).length, what).toBeGreaterThan(0)
    }
    const unexpected = during.filter(
      (a) =>
        a.status !== 503 ||
        !a.contentType?.includes('application/problem+json') ||
        a.retryAfter !== '5' ||
        a.body?.status !== 503 ||
        a.body?.title !== 'Service Unavailable',
    )
    expect(unexpected).toEqual([])
    expect(during.find((a) => a.what === 'GET /ready')?.body).toMatchObject({ ready: false, database: 'postgres' })

    // Back without a restart: the pool reconnects on its own.
    await until(async () => (await call('ready', '/ready')).status === 200, 'ready again', 60_000)
    expect(server.process.exitCode).toBe(null)
    const after = await call('POST /api/executions', '/api/executions', { workflow_id: workflowId })
    expect(after.status, JSON.stringify(after.body)).toBe(201)
    const get = await call('GET /api/executions/{id}', `/api/executions/${ids[0]}`)
    expect(get.status).toBe(200)
    // Not one request was logged as a server error.
    expect(
      server
        .output()
        .split('\n')
        .filter((line) => line.includes('request failed')),
    ).toEqual([])
  }, 180_000)

  it('after the outage the node re-claims its executions and completes every execution without a restart, each task completed exactly once', async () => {
    const statuses = async () => Promise.all(ids.map(async (id) => (await request(`${base}/api/executions/${id}`)).body?.status))
    try {
      await until(async () => (await statuses()).every((s) => s === 'completed'), 'every execution completed', 120_000)
    } catch (error) {
      const counts: Record<string, number> = {}
      for (const s of await statuses()) counts[String(s)] = (counts[String(s)] ?? 0) + 1
      throw new Error(`${(error as Error).message}: ${JSON.stringify(counts)}`)
    }
    for (const id of ids) {
      const history = await request(`${base}/api/executions/${id}/history`)
      expect(history.status).toBe(200)
      const completed = (history.body.events as Array<{ type: string; task_id?: string }>)
        .filter((e) => e.type === 'task_completed')
        .map((e) => e.task_id)
        .sort()
      expect(completed, id).toEqual(chain.tasks.map((t) => t.id).sort())
    }
    expect(server.process.exitCode).toBe(null)
  }, 180_000)
})
