/**
 * Event subscriptions (issue 11, API.md "Event subscriptions (webhooks)"), through a real listening server and a real
 * receiver (node:http), on the memory store, PGlite and Postgres: the API (201 shape, paging, 404, 204, 422 naming the
 * field, the allow-list), every task_completed of a workflow in seq order with a signature checked by the documented
 * algorithm, a receiver that fails three times then recovers, Retry-After, the 24 h disable (all on a simulated clock:
 * no sleeping), events of an execution older than the subscription, and the secret sealed at rest.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { SimulatedClock } from 'xstate'
import type { HandlerContext } from '../../src/components/handler.js'
import { createHarmonia, type Harmonia, type HarmoniaOptions } from '../../src/harmonia.js'
import { createLogger } from '../../src/logger.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { apiClient, type ApiCall } from '../support/api.js'
import { deferred, until } from '../support/async.js'
import { dumpTables } from '../support/db.js'
import { storeCases, type FreshStore } from '../support/stores.js'
import { closeReceivers, hasValidSignature, startReceiver } from '../support/webhook-receiver.js'

const SECRET = 'webhook-secret-of-the-test'
const KEY = Buffer.alloc(32, 7).toString('base64')
const chain = (name: string, n = 3) => ({
  name,
  tasks: Array.from({ length: n }, (_, i) => ({
    id: `t${i}`,
    component: 'harmonia',
    action: 'echo',
    input: { i },
    depends_on: i === 0 ? [] : [`t${i - 1}`],
  })),
})

const running: Array<{ server: RunningServer; harmonia: Harmonia }> = []
afterEach(async () => {
  for (const { server, harmonia } of running.splice(0)) {
    await server.close()
    await harmonia.close()
  }
  await closeReceivers()
})

for (const kind of storeCases) {
  describe.skipIf(kind.skip)(`${kind.title}: event subscriptions`, () => {
    async function boot(
      options: HarmoniaOptions = {},
    ): Promise<{ harmonia: Harmonia; call: ApiCall; fresh: FreshStore; server: RunningServer }> {
      const fresh = await kind.open()
      const harmonia = await createHarmonia({ store: fresh.store, secretKey: KEY, logger: createLogger({ level: 'silent' }), ...options })
      const server = await startServer({ harmonia, port: 0, hostname: '127.0.0.1', tokens: [] })
      running.push({ server, harmonia })
      return { harmonia, fresh, server, call: apiClient(() => server.url) }
    }

    /** An engine on a simulated clock (backoff timers fire only when the test advances it). */
    async function bootSimulated(options: HarmoniaOptions = {}) {
      const clock = new SimulatedClock()
      clock.set(Date.parse('2026-03-01T00:00:00Z'))
      return { clock, ...(await boot({ clock, ...options })) }
    }

    it('creates, reads, lists (paged), deletes; never answers the secret; 404 for unknown ids', async () => {
      const { call } = await boot()
      const created = await call('POST', '/api/subscriptions', { url: 'http://127.0.0.1:9/hooks', secret: SECRET, types: ['task_failed'] })
      expect(created.status).toBe(201)
      expect(created.body).toMatchObject({ url: 'http://127.0.0.1:9/hooks', types: ['task_failed'], workflow_id: null, has_secret: true })
      expect(created.body.subscription_id).toMatch(/^[0-9a-f-]{36}$/)
      expect(created.body.created_at).toMatch(/Z$/)
      expect(created.text).not.toContain(SECRET)
      const id = created.body.subscription_id as string
      for (let i = 0; i < 2; i++) expect((await call('POST', '/api/subscriptions', { url: `http://127.0.0.1:9/h${i}` })).status).toBe(201)

      const first = await call('GET', '/api/subscriptions?limit=2')
      expect(first.body).toMatchObject({ total: 3, limit: 2, offset: 0 })
      expect(first.body.items.map((s: { subscription_id: string }) => s.subscription_id)[0]).toBe(id)
      expect(first.body.items[1]).toMatchObject({ types: null, has_secret: false })
      const rest = await call('GET', '/api/subscriptions?limit=2&offset=2')
      expect(rest.body.items).toHaveLength(1)
      expect(first.text + rest.text).not.toContain(SECRET)

      const one = await call('GET', `/api/subscriptions/${id}`)
      expect(one.body).toMatchObject({ subscription_id: id, has_secret: true, disabled_at: null, last_error: null, failing_since: null })
      expect(one.text).not.toContain(SECRET)
      expect((await call('DELETE', `/api/subscriptions/${id}`)).status).toBe(204)
      expect((await call('GET', `/api/subscriptions/${id}`)).status).toBe(404)
      expect((await call('DELETE', `/api/subscriptions/${id}`)).status).toBe(404)
      expect((await call('GET', '/api/subscriptions/not-an-id')).status).toBe(404)
      expect((await call('GET', '/api/v1/subscriptions')).body.total).toBe(2)
    })

    it('refuses bad bodies with 422 naming the field', async () => {
      const { call } = await boot({ httpAllow: ['hooks.example.com'] })
      const cases: Array<[unknown, string]> = [
        [{}, 'url'],
        [{ url: 'ftp://hooks.example.com/x' }, 'url'],
        [{ url: 'not a url' }, 'url'],
        [{ url: 'https://user:pw@hooks.example.com/x' }, 'url'],
        [{ url: 'https://hooks.example.com/x', types: 'task_failed' }, 'types'],
        [{ url: 'https://hooks.example.com/x', types: [] }, 'types'],
        [{ url: 'https://hooks.example.com/x', types: ['task_failed', 'task_exploded'] }, 'types[1]'],
        [{ url: 'https://hooks.example.com/x', workflow_id: 'abc' }, 'workflow_id'],
        [{ url: 'https://hooks.example.com/x', secret: '' }, 'secret'],
        // A misspelt field would subscribe to every event: refused, named.
        [{ url: 'https://hooks.example.com/x', type: ['task_failed'] }, 'type'],
        // HARMONIA_HTTP_ALLOW (here httpAllow) applies to webhook targets as to the http component.
        [{ url: 'http://127.0.0.1:9/hooks' }, 'url'],
      ]
      for (const [body, path] of cases) {
        const answer = await call('POST', '/api/subscriptions', body)
        expect(answer.status, JSON.stringify(body)).toBe(422)
        expect(answer.type).toBe('application/problem+json')
        expect(
          answer.body.errors.map((e: { path: string }) => e.path),
          JSON.stringify(body),
        ).toContain(path)
      }
      expect((await call('POST', '/api/subscriptions', [1])).status).toBe(422)
      expect((await call('POST', '/api/subscriptions', undefined, { raw: '{"url":' })).status).toBe(400)
      expect((await call('POST', '/api/subscriptions', { url: 'https://hooks.example.com/x' })).status).toBe(201)
    })

    it('POSTs every task_completed of the workflow, in seq order, signed (checked with the documented HMAC)', async () => {
      const { harmonia, call } = await boot()
      const receiver = await startReceiver()
      const wanted = await harmonia.createWorkflow(chain('wanted', 4))
      const other = await harmonia.createWorkflow(chain('other', 2))
      const created = await call('POST', '/api/subscriptions', {
        url: receiver.url,
        types: ['task_completed'],
        workflow_id: wanted.workflow_id,
        secret: SECRET,
      })
      expect(created.status).toBe(201)
      const before = Math.floor(Date.now() / 1000)

      const skipped = await harmonia.startExecution({ workflow_id: other.workflow_id })
      await harmonia.waitForExecution(skipped.execution_id)
      const run = await harmonia.startExecution({ workflow_id: wanted.workflow_id })
      await harmonia.waitForExecution(run.execution_id)
      await until(() => receiver.accepted().length === 4, 'four deliveries')

      const history = (await call('GET', `/api/executions/${run.execution_id}/history`)).body.events as Array<{ type: string }>
      const completed = history.filter((e) => e.type === 'task_completed')
      expect(receiver.accepted()).toEqual(completed) // the Event JSON, as GET history answers it
      expect(receiver.accepted().map((e) => e.task_id)).toEqual(['t0', 't1', 't2', 't3'])
      const seqs = receiver.accepted().map((e) => e.seq)
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs)
      for (const delivery of receiver.requests) {
        expect(hasValidSignature(delivery, SECRET)).toBe(true)
        expect(hasValidSignature(delivery, 'another secret')).toBe(false)
        expect(Math.abs(Number(delivery.headers['x-harmonia-timestamp']) - before)).toBeLessThan(60)
        expect(delivery.headers['content-type']).toBe('application/json')
        expect(delivery.headers['x-harmonia-event']).toBe('task_completed')
        expect(delivery.headers['idempotency-key']).toBe(`${created.body.subscription_id}:${run.execution_id}:${delivery.event.seq}`)
        expect(delivery.raw).not.toContain(SECRET)
      }
      expect(receiver.requests.every((r) => r.event.execution_id === run.execution_id)).toBe(true)
    })

    it('a receiver that answers 500 three times, then 200, gets every event once it recovers (backoff 1 s, 2 s, 4 s on the clock)', async () => {
      const { harmonia, call, clock } = await bootSimulated()
      const receiver = await startReceiver((_, n) => ({ status: n < 3 ? 500 : 200 }))
      const workflow = await harmonia.createWorkflow(chain('flaky receiver'))
      const sub = (await call('POST', '/api/subscriptions', { url: receiver.url })).body
      const run = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      await harmonia.waitForExecution(run.execution_id)
      const all = await harmonia.getEvents(run.execution_id)

      await until(() => receiver.requests.length === 1, 'the first attempt')
      await harmonia.flush() // the failure is recorded and the retry timer armed
      const failing = (await call('GET', `/api/subscriptions/${sub.subscription_id}`)).body
      expect(failing.last_error).toMatch(/HTTP 500/)
      expect(failing.failing_since).toBe('2026-03-01T00:00:00.000Z')
      expect(failing.disabled_at).toBeNull()

      for (const [wait, attempts] of [
        [1_000, 2],
        [2_000, 3],
        [4_000, 4],
      ] as const) {
        clock.increment(wait - 1)
        await harmonia.flush()
        expect(receiver.requests.length, `before ${wait} ms`).toBe(attempts - 1)
        clock.increment(1)
        await until(() => receiver.requests.length >= attempts, `attempt ${attempts}`)
        await harmonia.flush()
      }
      await until(() => receiver.accepted().length === all.length, 'every event')
      expect(receiver.accepted()).toEqual(all)
      expect(receiver.requests.slice(0, 4).map((r) => r.event.seq)).toEqual([1, 1, 1, 1])
      await until(async () => (await call('GET', `/api/subscriptions/${sub.subscription_id}`)).body.last_error === null, 'healthy')
      expect((await call('GET', `/api/subscriptions/${sub.subscription_id}`)).body).toMatchObject({
        failing_since: null,
        disabled_at: null,
      })
    })

    it('honours Retry-After (a 503 asking for 120 s waits 120 s, not the 1 s backoff)', async () => {
      const { harmonia, call, clock } = await bootSimulated()
      const receiver = await startReceiver((_, n) => (n === 0 ? { status: 503, headers: { 'retry-after': '120' } } : { status: 200 }))
      const workflow = await harmonia.createWorkflow(chain('busy receiver', 1))
      await call('POST', '/api/subscriptions', { url: receiver.url, types: ['workflow_completed'] })
      const run = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      await harmonia.waitForExecution(run.execution_id)
      await until(() => receiver.requests.length === 1, 'the first attempt')
      await harmonia.flush()
      clock.increment(119_000)
      await harmonia.flush()
      expect(receiver.requests).toHaveLength(1)
      clock.increment(1_000)
      await until(() => receiver.accepted().length === 1, 'the retry after 120 s')
      expect(receiver.accepted()[0]!.type).toBe('workflow_completed')
    })

    it('disables a subscription whose receiver keeps failing for 24 h, and says so in last_error', async () => {
      const { harmonia, call, clock } = await bootSimulated()
      const receiver = await startReceiver(() => ({ status: 500 }))
      const workflow = await harmonia.createWorkflow(chain('dead receiver', 1))
      const sub = (await call('POST', '/api/subscriptions', { url: receiver.url, types: ['workflow_completed'] })).body
      const run = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      await harmonia.waitForExecution(run.execution_id)
      await until(() => receiver.requests.length === 1, 'the first attempt')
      const started = clock.now()

      // Backoff doubles from 1 s up to 5 min: advancing 5 min at a time makes one attempt per step.
      await harmonia.flush()
      let state = await harmonia.getSubscription(sub.subscription_id)
      for (let step = 0; state.disabled_at === null; step++) {
        expect(step, 'disabled within 24 h and a few steps').toBeLessThan(400)
        const made = receiver.requests.length
        clock.increment(5 * 60_000)
        await until(() => receiver.requests.length > made, `attempt ${made + 1}`)
        await harmonia.flush()
        state = await harmonia.getSubscription(sub.subscription_id)
      }
      const disabled = (await call('GET', `/api/subscriptions/${sub.subscription_id}`)).body
      expect(disabled.failing_since).toBe(new Date(started).toISOString())
      expect(Date.parse(disabled.disabled_at) - Date.parse(disabled.failing_since)).toBeGreaterThanOrEqual(24 * 3_600_000)
      expect(Date.parse(disabled.disabled_at) - Date.parse(disabled.failing_since)).toBeLessThan(24 * 3_600_000 + 10 * 60_000)
      expect(disabled.last_error).toMatch(/^disabled after failing for 24 h: HTTP 500/)
      const made = receiver.requests.length
      clock.increment(3_600_000)
      const later = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      await harmonia.waitForExecution(later.execution_id)
      await harmonia.flush()
      expect(receiver.requests).toHaveLength(made)
      expect(receiver.accepted()).toHaveLength(0)
    })

    it('an execution started before the subscription delivers only the events committed after it', async () => {
      const gate = deferred()
      const { harmonia, call } = await boot({
        components: { hold: { wait: (_: unknown, _ctx: HandlerContext) => gate.promise.then(() => ({ released: true })) } },
        strictComponents: false,
      })
      const receiver = await startReceiver()
      const workflow = await harmonia.createWorkflow({ name: 'older', tasks: [{ id: 'w', component: 'hold', action: 'wait' }] })
      const run = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      await until(async () => (await harmonia.getEvents(run.execution_id)).some((e) => e.type === 'task_started'), 'task_started')
      const seen = (await harmonia.getEvents(run.execution_id)).length
      expect((await call('POST', '/api/subscriptions', { url: receiver.url })).status).toBe(201)
      gate.resolve()
      await harmonia.waitForExecution(run.execution_id)
      const all = await harmonia.getEvents(run.execution_id)
      await until(() => receiver.accepted().length === all.length - seen, 'the later events')
      expect(receiver.accepted()).toEqual(all.slice(seen))
      expect(receiver.accepted().map((e) => e.type)).toEqual(['task_completed', 'workflow_completed'])
    })

    it('a key rotation reseals subscription secrets: after a restart on the new key deliveries are still signed with the secret', async () => {
      const fresh = await kind.open()
      const kept = { ...fresh.store, close: async () => {} } // the restart reuses the database
      const logger = createLogger({ level: 'silent' })
      const receiver = await startReceiver()
      const first = await createHarmonia({ store: kept, secretKey: KEY, logger })
      const workflow = await first.createWorkflow(chain('rotated', 1))
      await first.createSubscription({ url: receiver.url, secret: SECRET, types: ['workflow_completed'] })
      const next = Buffer.alloc(32, 9).toString('base64')
      expect(await first.rotateSecrets(next)).toBe(1)
      await first.close()
      await expect(createHarmonia({ store: kept, secretKey: KEY, logger })).rejects.toThrow(
        /does not open the stored secret of subscription/,
      )
      const second = await createHarmonia({ store: kept, secretKey: next, logger })
      try {
        const run = await second.startExecution({ workflow_id: workflow.workflow_id })
        await second.waitForExecution(run.execution_id)
        await until(() => receiver.accepted().length === 1, 'the delivery after the restart')
        expect(hasValidSignature(receiver.requests[0]!, SECRET)).toBe(true)
      } finally {
        await second.close()
        await fresh.store.close()
      }
    })

    it.skipIf(kind.name === 'memory')('stores the secret sealed: no table holds it in the clear', async () => {
      const { call, fresh } = await boot()
      expect((await call('POST', '/api/subscriptions', { url: 'http://127.0.0.1:9/hooks', secret: SECRET })).status).toBe(201)
      const dump = await dumpTables(fresh.handle!.db)
      expect(JSON.stringify(dump)).not.toContain(SECRET)
      const [row] = dump['public.subscriptions']!.map((r) => JSON.parse(r) as { secret: string })
      expect(row!.secret).toMatch(/^v1:/)
    })
  })
}
