import { randomUUID } from 'node:crypto'
import { afterEach, beforeEach, expect, it } from 'vitest'
import type { Harmonia } from '../../src/harmonia.js'
import type { ExecutionEvent } from '../../src/model/events.js'
import { closeComponentServers, startComponentServer, unusedUrl, type ComponentServer, type Reply } from '../support/component-server.js'
import { describeEachStore, testEngine, until, type TestEngine } from '../support/harness.js'

/**
 * How a remote component's answer classifies the attempt (API.md "The call"): 408, 429, 5xx, a timeout or a
 * connection error are retried per the task's policy; any other 4xx fails at once with `http_<status>` and the
 * body's message; `Retry-After` on a 429 or 503 stretches the backoff. Real component servers, an engine on a
 * SimulatedClock: the backoff elapses only when the test advances the clock.
 */

let engine: TestEngine
let harmonia: Harmonia
const unique = (base: string) => `${base}-${randomUUID().slice(0, 8)}`

beforeEach(async () => {
  engine = await testEngine({ enableShell: false })
  harmonia = engine.harmonia
})
afterEach(async () => {
  await harmonia.close()
  await closeComponentServers()
})

/** A component server answering `reply`, registered through the API under a fresh name. */
async function component(reply: (action: string, n: number) => Reply | Promise<Reply>, fields: Record<string, unknown> = {}) {
  const remote = await startComponentServer({ action: (call, n) => reply(call.action, n) })
  const name = unique('remote')
  await harmonia.createComponent({ name, url: remote.url, ...fields })
  return { name, remote }
}

async function start(tasks: unknown[]) {
  const wf = await harmonia.createWorkflow({ name: unique('retry'), fail_fast: false, tasks })
  return (await harmonia.startExecution({ workflow_id: wf.workflow_id })).execution_id
}

const events = (id: string, type: ExecutionEvent['type']) => harmonia.getEvents(id).then((all) => all.filter((e) => e.type === type))

/** Waits for the n-th task_retrying event of the execution (committed: the backoff timer is armed) and returns it. */
async function retrying(id: string, n: number): Promise<ExecutionEvent> {
  await until(async () => (await events(id, 'task_retrying')).length >= n, `task_retrying #${n}`)
  return (await events(id, 'task_retrying'))[n - 1]!
}

const attemptsSeen = (remote: ComponentServer) => remote.calls.map((c) => c.body.context.attempt as number)

describeEachStore('retry classification of remote answers', () => {
  it('503 twice, then 200: completes on attempt 3, the same idempotency key on every attempt', async () => {
    const { name, remote } = await component((_, n) =>
      n < 2 ? { status: 503, body: { error: { message: `busy ${n}` } } } : { status: 200, body: { output: { n } } },
    )
    const id = await start([
      { id: 'flaky', component: name, action: 'run', retry: { max_attempts: 3, initial_interval: 1, jitter: false } },
    ])
    for (const n of [1, 2]) {
      const event = await retrying(id, n)
      expect(event).toMatchObject({
        task_id: 'flaky',
        data: { attempt: n, error: { code: 'http_503', message: `busy ${n - 1}`, retryable: true } },
      })
      expect(remote.calls).toHaveLength(n)
      engine.clock.increment(event.data.delay_ms as number)
    }
    const done = await harmonia.waitForExecution(id)
    expect(done.status).toBe('completed')
    expect(done.task_executions.flaky).toMatchObject({ status: 'completed', attempts: 3, retries: 2, output: { n: 2 }, error: null })
    expect(attemptsSeen(remote)).toEqual([1, 2, 3])
    expect(new Set(remote.calls.map((c) => c.headers['idempotency-key']))).toEqual(new Set([`${id}:flaky`]))
  })

  it('other 4xx fail at once (attempts 1, not retryable, http_<status>) with the message from the body', async () => {
    const answers: Record<string, Reply> = {
      error_message: { status: 400, body: { error: { message: 'params.data is required', code: 'E_PARAMS' } } },
      detail: { status: 422, body: { type: 'about:blank', title: 'Unprocessable', detail: 'data must be a string' } },
      message: { status: 404, body: { message: 'no such document' } },
      status_line: { status: 401 },
    }
    const { name, remote } = await component((action) => answers[action]!)
    const policy = { max_attempts: 5, initial_interval: 1, jitter: false }
    const id = await start(Object.keys(answers).map((action) => ({ id: action, component: name, action, retry: policy })))
    const done = await harmonia.waitForExecution(id)
    expect(done.status).toBe('failed')
    const failure = (task: string) => done.task_executions[task]
    expect(failure('error_message')).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'http_400', message: 'params.data is required', retryable: false },
    })
    expect(failure('detail')).toMatchObject({
      attempts: 1,
      error: { code: 'http_422', message: 'data must be a string', retryable: false },
    })
    expect(failure('message')).toMatchObject({ attempts: 1, error: { code: 'http_404', message: 'no such document', retryable: false } })
    expect(failure('status_line')).toMatchObject({
      attempts: 1,
      error: { code: 'http_401', message: 'HTTP 401 Unauthorized', retryable: false },
    })
    expect(remote.calls).toHaveLength(4)
    expect(await events(id, 'task_retrying')).toEqual([])
  })

  it('408, 429, 5xx, a connection error and a timeout are retryable (one attempt allowed: the failure says so)', async () => {
    const statuses = [408, 429, 500, 502, 503, 504]
    const { name } = await component((action) =>
      action === 'hang' ? new Promise<Reply>(() => {}) : { status: Number(action.slice(1)), body: { detail: `answered ${action}` } },
    )
    const nobody = unique('nobody')
    await harmonia.createComponent({ name: nobody, url: await unusedUrl() })
    const slow = unique('slow')
    const { remote: hanging } = await component(() => new Promise<Reply>(() => {}))
    await harmonia.createComponent({ name: slow, url: hanging.url, timeout: 0.2 })
    const once = { max_attempts: 1 }
    const id = await start([
      ...statuses.map((s) => ({ id: `s${s}`, component: name, action: `s${s}`, retry: once })),
      { id: 'refused', component: nobody, action: 'run', retry: once },
      { id: 'timeout', component: slow, action: 'run', retry: once },
    ])
    const done = await harmonia.waitForExecution(id)
    for (const s of statuses) {
      expect(done.task_executions[`s${s}`], String(s)).toMatchObject({
        status: 'failed',
        attempts: 1,
        error: { code: `http_${s}`, message: `answered s${s}`, retryable: true },
      })
    }
    expect(done.task_executions.refused).toMatchObject({ status: 'failed', error: { code: 'network', retryable: true } })
    expect(done.task_executions.refused!.error!.message).toMatch(/ECONNREFUSED/)
    expect(done.task_executions.timeout).toMatchObject({ status: 'failed', error: { code: 'timeout', retryable: true } })
  })

  it('429 with Retry-After: 1 waits at least 1 s although the policy asks for 0.1 s', async () => {
    const { name, remote } = await component((_, n) =>
      n === 0
        ? { status: 429, body: { error: { message: 'slow down' } }, headers: { 'Retry-After': '1' } }
        : { status: 200, body: { output: 'ok' } },
    )
    const id = await start([
      { id: 'limited', component: name, action: 'run', retry: { max_attempts: 3, initial_interval: 0.1, jitter: false } },
    ])
    const event = await retrying(id, 1)
    expect(event.data).toMatchObject({ attempt: 1, error: { code: 'http_429', message: 'slow down', retryable: true } })
    expect(event.data.delay_ms).toBeGreaterThanOrEqual(1000)
    expect(remote.calls).toHaveLength(1)

    // 999 ms: the backoff of the policy (100 ms) is long past, the server's is not. Every transition the clock caused
    // is committed by flush(): a second attempt would have been recorded (task_started, attempt 2) by then.
    engine.clock.increment(999)
    await harmonia.flush()
    expect((await events(id, 'task_started')).map((e) => e.data.attempt)).toEqual([1])
    expect((await harmonia.getExecution(id)).task_executions.limited!.status).toBe('retrying')
    expect(remote.calls).toHaveLength(1)

    engine.clock.increment(1)
    await until(() => remote.calls.length === 2, 'the second call')
    expect(attemptsSeen(remote)).toEqual([1, 2])
    const done = await harmonia.waitForExecution(id)
    expect(done.task_executions.limited).toMatchObject({ status: 'completed', attempts: 2, output: 'ok' })
  })

  it("202 and no callback within the task timeout: retried per the policy; the old attempt's callback is refused (409)", async () => {
    const { name, remote } = await component(() => ({ status: 202 }))
    const id = await start([
      { id: 'slow', component: name, action: 'run', timeout: 10, retry: { max_attempts: 2, initial_interval: 1, jitter: false } },
    ])
    await until(() => remote.calls.length === 1, 'the first call')
    await until(async () => (await harmonia.getExecution(id)).task_executions.slow!.status === 'running', 'slow running')
    // The wait is recorded before the timeout can matter: only then does the clock move.
    await harmonia.flush()
    engine.clock.increment(9_999)
    await harmonia.flush()
    expect(await events(id, 'task_retrying')).toEqual([])
    engine.clock.increment(1)
    const event = await retrying(id, 1)
    expect(event.data).toMatchObject({ attempt: 1, error: { code: 'timeout', retryable: true } })
    engine.clock.increment(event.data.delay_ms as number)
    await until(() => remote.calls.length === 2, 'the second call')
    expect(attemptsSeen(remote)).toEqual([1, 2])
    await expect(harmonia.completeTask(id, 'slow', { output: 'late', attempt: 1 })).rejects.toMatchObject({ name: 'ConflictError' })
    await until(async () => (await harmonia.getExecution(id)).task_executions.slow!.attempts === 2, 'attempt 2 recorded')
    expect(await harmonia.completeTask(id, 'slow', { output: 'on time', attempt: 2 })).toMatchObject({ accepted: true, task_id: 'slow' })
    const done = await harmonia.waitForExecution(id)
    expect(done.task_executions.slow).toMatchObject({ status: 'completed', attempts: 2, output: 'on time' })
  })

  it('Retry-After as an HTTP date counts from the engine clock', async () => {
    const at = new Date(engine.clock.now() + 2_000).toUTCString()
    const { name, remote } = await component((_, n) =>
      n === 0 ? { status: 503, headers: { 'Retry-After': at } } : { status: 200, body: { output: 'ok' } },
    )
    const id = await start([{ id: 't', component: name, action: 'run', retry: { max_attempts: 2, initial_interval: 0, jitter: false } }])
    expect((await retrying(id, 1)).data.delay_ms).toBe(2000)
    engine.clock.increment(2000)
    expect((await harmonia.waitForExecution(id)).task_executions.t).toMatchObject({ status: 'completed', attempts: 2 })
    expect(remote.calls).toHaveLength(2)
  })

  it("a Retry-After shorter than the policy's backoff does not shorten it (503, Retry-After: 1, backoff 3 s)", async () => {
    const { name, remote } = await component((_, n) =>
      n === 0 ? { status: 503, headers: { 'Retry-After': '1' } } : { status: 200, body: { output: 'ok' } },
    )
    const id = await start([{ id: 't', component: name, action: 'run', retry: { max_attempts: 2, initial_interval: 3, jitter: false } }])
    const event = await retrying(id, 1)
    expect(event.data.delay_ms).toBe(3000)
    engine.clock.increment(2999)
    await harmonia.flush()
    expect((await events(id, 'task_started')).map((e) => e.data.attempt)).toEqual([1])
    expect(remote.calls).toHaveLength(1)
    engine.clock.increment(1)
    expect((await harmonia.waitForExecution(id)).task_executions.t).toMatchObject({ status: 'completed', attempts: 2 })
    expect(remote.calls).toHaveLength(2)
  })
})
