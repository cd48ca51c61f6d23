import { createHmac, randomBytes } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { until } from '../support/async.js'
import { drivers, type EmptyDatabase } from '../support/db.js'
import { cleanEnv, freePort, request, startNode, stop, stopAll, type Child } from '../support/processes.js'

/** The key the children store component secrets under (the same across the restart). */
const SECRET_KEY = randomBytes(32).toString('base64')

/**
 * 202 + callback across a SIGKILL (API.md "The call", "Callbacks"), with real processes on 127.0.0.1, on PGlite and on
 * Postgres: a component written here answers every call with 202 and records it; Harmonia runs as a child process
 * (callback-child.ts: the server of src/main.ts, which also says when a wait for a callback is committed) and is
 * killed while a task waits, then started again on the same database and port. The component's callback reaches the
 * restarted server, the execution completes with its output, and the component was called once. Then the callback
 * rules: repeats are idempotent, anything not for the waiting attempt is 409, anything not signed right is 401 and
 * changes nothing.
 */

const CHILD = join(import.meta.dirname, 'callback-child.ts')
const SECRET = `slowpoke-${randomBytes(16).toString('hex')}`
const OTHER_SECRET = `bystander-${randomBytes(16).toString('hex')}`

const sign = (secret: string, timestamp: number, raw: string) =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.${raw}`).digest('hex')}`
const nowSeconds = () => Math.floor(Date.now() / 1000)

type Call = { action: string; body: any; headers: IncomingHttpHeaders; verified: boolean }

/** A remote component that answers every action with 202 (it will call back) and records each call it gets. */
async function startComponent(secret: string): Promise<{ url: string; calls: Call[]; server: Server }> {
  const calls: Call[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      const action = /^\/api\/actions\/([^/?]+)$/.exec(req.url ?? '')?.[1]
      if (req.method !== 'POST' || action === undefined) {
        res.writeHead(404).end()
        return
      }
      const timestamp = Number(req.headers['x-harmonia-timestamp'])
      const verified = req.headers['x-harmonia-signature'] === sign(secret, timestamp, raw) && Math.abs(nowSeconds() - timestamp) <= 300
      calls.push({ action, body: JSON.parse(raw), headers: req.headers, verified })
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: true }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, server }
}

/** A callback as a component sends it: the raw body signed with `secret` at `timestamp` (default: now). */
function callback(url: string, raw: string, options: { secret?: string; timestamp?: number; signed?: string } = {}) {
  const timestamp = options.timestamp ?? nowSeconds()
  return request(url, {
    raw,
    headers: {
      'X-Harmonia-Timestamp': String(timestamp),
      'X-Harmonia-Signature': sign(options.secret ?? SECRET, timestamp, options.signed ?? raw),
    },
  })
}

/** Each way of getting the signature wrong, for one callback: every one is answered 401. */
async function expectForgeriesRefused(url: string, body: Record<string, unknown>): Promise<void> {
  const raw = JSON.stringify(body)
  const forgeries = {
    'a tampered body': () => callback(url, JSON.stringify({ ...body, output: { answer: 'tampered' } }), { signed: raw }),
    'a wrong secret': () => callback(url, raw, { secret: 'not-the-secret' }),
    "another component's secret": () => callback(url, raw, { secret: OTHER_SECRET }),
    'a stale timestamp (400 s old)': () => callback(url, raw, { timestamp: nowSeconds() - 400 }),
  }
  for (const [what, send] of Object.entries(forgeries)) {
    const { status, body: problem, text } = await send()
    expect(status, `${what}: ${text}`).toBe(401)
    expect(problem, what).toMatchObject({ status: 401 })
  }
}

for (const driver of drivers) {
  describe.skipIf(driver.skip)(`${driver.title}: a task waiting for its callback across a SIGKILL`, { timeout: 120_000 }, () => {
    let database: EmptyDatabase
    let component: Awaited<ReturnType<typeof startComponent>>
    let base = ''
    let port = 0
    let harmonia: Child
    const outputs: Array<() => string> = []
    const callsOf = (executionId: string) => component.calls.filter((c) => c.body.context.execution_id === executionId)
    const execution = async (id: string) => (await request(`${base}/api/executions/${id}`)).body

    /** The Harmonia server, up once it listens (the restarted one on the same port and database). */
    async function startHarmonia(): Promise<Child> {
      const child = startNode(
        [CHILD],
        cleanEnv({
          HARMONIA_PORT: String(port),
          HARMONIA_LOG_LEVEL: 'debug',
          // Component secrets are stored encrypted; on Postgres the key must be given (PGlite keeps one in its folder).
          HARMONIA_SECRET_KEY: SECRET_KEY,
          ...(driver.name === 'pglite' ? { HARMONIA_DATA_DIR: database.location } : { DATABASE_URL: database.location }),
        }),
      )
      outputs.push(child.output)
      await child.waitFor(/Harmonia listening on/, 'the Harmonia server to listen')
      return child
    }

    async function startExecution(workflow: Record<string, unknown>): Promise<string> {
      const created = await request(`${base}/api/workflows`, { body: workflow })
      expect(created.status, created.text).toBe(201)
      const started = await request(`${base}/api/executions`, { body: { workflow_id: created.body.workflow_id } })
      expect(started.status, started.text).toBe(201)
      return started.body.execution_id as string
    }

    beforeAll(async () => {
      database = await driver.empty()
      component = await startComponent(SECRET)
      port = await freePort()
      base = `http://127.0.0.1:${port}`
    })

    afterAll(async () => {
      await stopAll()
      component?.server.closeAllConnections()
      await new Promise((resolve) => component?.server.close(resolve))
      await database?.dispose()
    })

    let first = ''
    let firstCallbackUrl = ''
    const answer = JSON.stringify({ output: { answer: 42 } })
    let answerTimestamp = 0

    it('the restarted server takes the callback, the execution completes with its output, the component was called once', async () => {
      harmonia = await startHarmonia()
      for (const [name, secret] of [
        ['slowpoke', SECRET],
        ['bystander', OTHER_SECRET],
      ] as const) {
        const registered = await request(`${base}/api/components`, { body: { name, url: component.url, secret, actions: ['analyze'] } })
        expect(registered.status, registered.text).toBe(201)
        expect(registered.body).toMatchObject({ name, source: 'api', has_secret: true })
        expect(registered.text).not.toContain(secret)
      }
      first = await startExecution({
        name: 'waits for a callback',
        tasks: [
          { id: 'job', component: 'slowpoke', action: 'analyze', input: { question: 'six times seven' }, timeout: 300 },
          { id: 'after', component: 'harmonia', action: 'echo', input: { answer: '${tasks.job.output.answer}' }, depends_on: ['job'] },
        ],
      })

      // The component got the call and answered 202; Harmonia has committed that the attempt waits for its callback.
      await harmonia.waitFor(new RegExp(`AWAITING ${first} job 1\\n`), 'the wait for the callback to be stored')
      expect(callsOf(first)).toHaveLength(1)
      const [call] = callsOf(first)
      expect(call!.verified, 'the call is signed with the component secret').toBe(true)
      expect(call!.headers['idempotency-key']).toBe(`${first}:job`)
      expect(call!.body).toMatchObject({
        action: 'analyze',
        params: { question: 'six times seven' },
        context: { execution_id: first, task_id: 'job', attempt: 1, idempotency_key: `${first}:job` },
      })
      firstCallbackUrl = call!.body.context.callback_url as string
      expect(firstCallbackUrl).toBe(`${base}/api/executions/${first}/tasks/job`)
      expect((await execution(first)).task_executions.job).toMatchObject({ status: 'running', attempts: 1 })

      expect(await stop(harmonia, 'SIGKILL')).toBe(null)
      harmonia = await startHarmonia()
      expect((await execution(first)).task_executions.job).toMatchObject({ status: 'running', attempts: 1 })

      answerTimestamp = nowSeconds()
      const accepted = await callback(`${firstCallbackUrl}/complete`, answer, { timestamp: answerTimestamp })
      expect(accepted.status, accepted.text).toBe(200)
      expect(accepted.body).toEqual({ accepted: true, task_id: 'job', status: 'completed' })

      let done: any
      await until(
        async () => {
          done = await execution(first)
          return done.status !== 'running'
        },
        'the execution to finish',
        30_000,
      )
      expect(done.status, JSON.stringify(done)).toBe('completed')
      expect(done.task_executions.job).toMatchObject({ status: 'completed', output: { answer: 42 }, attempts: 1 })
      expect(done.task_executions.after.output).toEqual({ answer: 42 })
      expect(callsOf(first), 'the component was called once across the restart').toHaveLength(1)
      const { events } = (await request(`${base}/api/executions/${first}/history`)).body as { events: Array<{ seq: number }> }
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1))
    })

    it('on the finished task: the same callback again is 200, another one 409, a forged one 401; the output stays', async () => {
      const again = await callback(`${firstCallbackUrl}/complete`, answer, { timestamp: answerTimestamp })
      expect(again.status, again.text).toBe(200)
      expect(again.body).toEqual({ accepted: true, task_id: 'job', status: 'completed' })
      // The same callback sent again later (signed again, as a component retrying it would) is still a repeat.
      const resent = await callback(`${firstCallbackUrl}/complete`, answer)
      expect(resent.status, resent.text).toBe(200)
      expect(resent.body).toEqual({ accepted: true, task_id: 'job', status: 'completed' })

      const different = await callback(`${firstCallbackUrl}/complete`, JSON.stringify({ output: { answer: 43 } }))
      expect(different.status, different.text).toBe(409)
      expect(different.body).toMatchObject({ status: 409 })
      const failing = await callback(`${firstCallbackUrl}/fail`, JSON.stringify({ error: { message: 'too late' } }))
      expect(failing.status, failing.text).toBe(409)
      const otherAttempt = await callback(`${firstCallbackUrl}/complete`, JSON.stringify({ output: { answer: 42 }, attempt: 2 }))
      expect(otherAttempt.status, otherAttempt.text).toBe(409)

      await expectForgeriesRefused(`${firstCallbackUrl}/complete`, { output: { answer: 42 } })
      await expectForgeriesRefused(`${firstCallbackUrl}/complete`, { output: { answer: 43 } })

      const after = await execution(first)
      expect(after.status).toBe('completed')
      expect(after.task_executions.job).toMatchObject({ status: 'completed', output: { answer: 42 }, attempts: 1 })
      expect(callsOf(first)).toHaveLength(1)
    })

    it('a callback for a task that was never called (pending behind a long task) is 409 and changes nothing', async () => {
      const pending = await startExecution({
        name: 'never called',
        tasks: [
          { id: 'first', component: 'harmonia', action: 'sleep', input: { seconds: 3600 } },
          { id: 'job', component: 'slowpoke', action: 'analyze', input: {}, depends_on: ['first'] },
        ],
      })
      await until(async () => (await execution(pending)).task_executions.first.status === 'running', 'the long task to run')
      const early = await callback(`${base}/api/executions/${pending}/tasks/job/complete`, JSON.stringify({ output: { answer: 1 } }))
      expect(early.status, early.text).toBe(409)
      const still = await execution(pending)
      expect(still.status).toBe('running')
      expect(still.task_executions.job).toMatchObject({ status: 'pending', attempts: 0, output: null })
      expect(callsOf(pending)).toHaveLength(0)
      expect((await request(`${base}/api/executions/${pending}/cancel`, { method: 'POST' })).status).toBe(202)
    })

    it('while a retry waits: a callback for the old attempt is 409, forged ones 401, and neither settles it', async () => {
      const retried = await startExecution({
        name: 'retried',
        tasks: [{ id: 'job', component: 'slowpoke', action: 'analyze', input: {}, retry: { max_attempts: 2, initial_interval: 0.2 } }],
      })
      const url = `${base}/api/executions/${retried}/tasks/job`
      await until(() => callsOf(retried).length === 1, 'the first call')
      const failed = await callback(`${url}/fail`, JSON.stringify({ error: { message: 'not yet' }, retryable: true, attempt: 1 }))
      expect(failed.status, failed.text).toBe(200)
      // `running` when the callback beat the component's own 202 (it is held for the attempt, then taken).
      expect(failed.body).toEqual({ accepted: true, task_id: 'job', status: expect.stringMatching(/^(retrying|running)$/) })
      await until(() => callsOf(retried).length === 2, 'the second call', 30_000)
      expect(callsOf(retried).map((c) => c.body.context.attempt)).toEqual([1, 2])
      await until(async () => (await execution(retried)).task_executions.job.status === 'running', 'the second attempt to run')

      const old = await callback(`${url}/complete`, JSON.stringify({ output: { answer: 'old' }, attempt: 1 }))
      expect(old.status, old.text).toBe(409)
      await expectForgeriesRefused(`${url}/complete`, { output: { answer: 'second' }, attempt: 2 })
      const waiting = await execution(retried)
      expect(waiting.status).toBe('running')
      expect(waiting.task_executions.job).toMatchObject({ status: 'running', attempts: 2, output: null })

      const accepted = await callback(`${url}/complete`, JSON.stringify({ output: { answer: 'second' }, attempt: 2 }))
      expect(accepted.status, accepted.text).toBe(200)
      expect(accepted.body).toEqual({ accepted: true, task_id: 'job', status: 'completed' })
      await until(async () => (await execution(retried)).status === 'completed', 'the retried execution to complete')
      expect((await execution(retried)).task_executions.job).toMatchObject({ output: { answer: 'second' }, attempts: 2 })
      expect(callsOf(retried)).toHaveLength(2)
    })

    it('no secret reaches either server process’s output', () => {
      expect(outputs).toHaveLength(2)
      for (const output of outputs) {
        expect(output()).toContain('Harmonia listening on')
        expect(output()).not.toContain(SECRET)
        expect(output()).not.toContain(OTHER_SECRET)
      }
    })
  })
}
