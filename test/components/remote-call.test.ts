import { randomUUID } from 'node:crypto'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { apiClient } from '../support/api.js'
import { closeComponentServers, hmac, signed, startComponentServer, type Reply } from '../support/component-server.js'
import { describeEachStore, testStore, until } from '../support/harness.js'

/**
 * The call protocol (API.md "The call"): what Harmonia sends a remote component, checked on a real component
 * server, and how a 200 answer becomes the task's output. The engine is made by startServer, so `callback_url` is
 * built on the address it really listens on.
 */

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

let server: RunningServer | undefined
const call = apiClient(() => server!.url)
const unique = (base: string) => `${base}-${randomUUID().slice(0, 8)}`

afterEach(async () => {
  await server?.close()
  server = undefined
  await closeComponentServers()
})

/** A component answering `reply`, registered under a fresh name; its name and its server. */
async function component(reply: (n: number) => Reply, fields: Record<string, unknown> = {}) {
  const remote = await startComponentServer({ action: (_, n) => reply(n) })
  const name = unique('prometheus')
  const created = await call('POST', '/api/components', { name, url: `${remote.url}/`, ...fields })
  expect(created.status).toBe(201)
  return { name, remote }
}

/** Creates a workflow of `tasks` and runs it with `input` to its end, over HTTP. */
async function run(tasks: unknown[], input: Record<string, unknown> = {}) {
  const wf = await call('POST', '/api/workflows', { name: unique('call'), tasks })
  expect(wf.status).toBe(201)
  const started = await call('POST', '/api/executions', { workflow_id: wf.body.workflow_id, input })
  expect(started.status).toBe(201)
  const done = await server!.harmonia.waitForExecution(started.body.execution_id)
  return { workflowId: wf.body.workflow_id as string, execution: done }
}

describeEachStore('the call protocol', () => {
  beforeEach(async () => {
    server = await startServer({
      port: 0,
      hostname: '127.0.0.1',
      tokens: [],
      harmoniaOptions: { store: testStore(), recover: false, enableShell: false },
    })
  })

  it('POSTs {action, params, context} to {url}/api/actions/{action}, with the idempotency key and a verifiable signature', async () => {
    const secret = `secret-${randomUUID()}`
    const { name, remote } = await component(() => ({ status: 200, body: { output: { analysis: 'done' }, ignored: true } }), {
      secret,
      actions: ['analyze_results'],
    })
    const before = Math.floor(Date.now() / 1000)
    const { workflowId, execution } = await run(
      [{ id: 'analyze', component: name, action: 'analyze_results', input: { data: '${input.text}', n: 2 }, timeout: 30 }],
      { text: 'the quick fox' },
    )
    const after = Math.floor(Date.now() / 1000)
    expect(execution.status).toBe('completed')
    expect(execution.task_executions.analyze).toMatchObject({ status: 'completed', attempts: 1, output: { analysis: 'done' } })

    expect(remote.calls).toHaveLength(1)
    const sent = remote.calls[0]!
    expect(sent.method).toBe('POST')
    expect(sent.path).toBe('/api/actions/analyze_results')
    const id = execution.execution_id
    expect(sent.body).toEqual({
      action: 'analyze_results',
      params: { data: 'the quick fox', n: 2 },
      context: {
        execution_id: id,
        workflow_id: workflowId,
        task_id: 'analyze',
        attempt: 1,
        idempotency_key: `${id}:analyze`,
        callback_url: `${server!.url}/api/executions/${id}/tasks/analyze`,
        deadline: expect.stringMatching(ISO),
      },
    })
    expect(sent.headers['content-type']).toMatch(/^application\/json/)
    expect(sent.headers['idempotency-key']).toBe(`${id}:analyze`)
    const timestamp = sent.headers['x-harmonia-timestamp'] as string
    expect(timestamp).toMatch(/^\d+$/)
    expect(Number(timestamp)).toBeGreaterThanOrEqual(before)
    expect(Number(timestamp)).toBeLessThanOrEqual(after)
    // Verified here with node:crypto over the raw body as received, not with the engine's own code.
    expect(sent.headers['x-harmonia-signature']).toBe(hmac(secret, timestamp, sent.raw))
    expect(sent.headers['x-harmonia-signature']).not.toBe(hmac('another-secret', timestamp, sent.raw))
  })

  it('a component without a secret gets the timestamp and no signature; a task without timeout has deadline null', async () => {
    const { name, remote } = await component(() => ({ status: 200, body: { output: 1 } }))
    const { execution } = await run([{ id: 'a', component: name, action: 'anything' }])
    expect(execution.task_executions.a!.output).toBe(1)
    const sent = remote.calls[0]!
    expect(sent.path).toBe('/api/actions/anything')
    expect(sent.headers['x-harmonia-timestamp']).toMatch(/^\d+$/)
    expect(sent.headers).not.toHaveProperty('x-harmonia-signature')
    // A task without input sends its default input, an empty object.
    expect(sent.body.params).toEqual({})
    expect(sent.body.context.deadline).toBeNull()
  })

  it('200 without an output field: the whole body is the output (an object, a list, a string)', async () => {
    const bodies = [{ result: 42, nested: { a: [1, 2] } }, [1, 'two', { three: 3 }], 'plain', { output: null }]
    const { name } = await component((n) => ({ status: 200, body: bodies[n] }))
    // One task at a time, so that the n-th call is the n-th task.
    const tasks = bodies.map((_, i) => ({ id: `t${i}`, component: name, action: 'go', ...(i > 0 ? { depends_on: [`t${i - 1}`] } : {}) }))
    const { execution } = await run(tasks)
    expect(execution.status).toBe('completed')
    expect(execution.task_executions.t0!.output).toEqual({ result: 42, nested: { a: [1, 2] } })
    expect(execution.task_executions.t1!.output).toEqual([1, 'two', { three: 3 }])
    expect(execution.task_executions.t2!.output).toBe('plain')
    // An `output` field that is null is still the output field.
    expect(execution.task_executions.t3!.output).toBeNull()
  })

  it('202: the component settles the task later through callback_url, signed; also when it calls back before its 202', async () => {
    const secret = `secret-${randomUUID()}`
    const post = async (url: string, value: unknown) => {
      const raw = JSON.stringify(value)
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signed(secret, raw) },
        body: raw,
      })
      return { status: response.status, body: (await response.json()) as Record<string, unknown> }
    }
    const early: Array<{ status: number; body: Record<string, unknown> }> = []
    const { name, remote } = await component(() => ({ status: 202 }), { secret })
    // `early` answers only after its own callback was accepted: the callback reaches Harmonia before the 202 does.
    const eager = await startComponentServer({
      action: async (c) => {
        early.push(await post(`${c.body.context.callback_url}/complete`, { output: { early: true }, attempt: c.body.context.attempt }))
        return { status: 202 }
      },
    })
    const eagerName = unique('eager')
    await call('POST', '/api/components', { name: eagerName, url: eager.url, secret })

    const wf = await call('POST', '/api/workflows', {
      name: unique('async'),
      fail_fast: false,
      tasks: [
        { id: 'later', component: name, action: 'run' },
        { id: 'failing', component: name, action: 'run' },
        { id: 'early', component: eagerName, action: 'run' },
      ],
    })
    const id = (await call('POST', '/api/executions', { workflow_id: wf.body.workflow_id })).body.execution_id as string
    await until(() => remote.calls.length === 2, 'both calls')
    const urlOf = (task: string) => remote.calls.find((c) => c.body.context.task_id === task)!.body.context.callback_url as string
    expect(urlOf('later')).toBe(`${server!.url}/api/executions/${id}/tasks/later`)
    expect(await post(`${urlOf('later')}/complete`, { output: { answer: 42 } })).toMatchObject({
      status: 200,
      body: { accepted: true, task_id: 'later' },
    })
    expect(
      await post(`${urlOf('failing')}/fail`, { error: { message: 'model unavailable', code: 'E_MODEL' }, retryable: false }),
    ).toMatchObject({ status: 200, body: { accepted: true, task_id: 'failing' } })
    const done = await server!.harmonia.waitForExecution(id)
    expect(done.task_executions.later).toMatchObject({ status: 'completed', attempts: 1, output: { answer: 42 } })
    expect(done.task_executions.failing).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { message: 'model unavailable', code: 'E_MODEL', retryable: false },
    })
    expect(early).toEqual([{ status: 200, body: { accepted: true, task_id: 'early', status: 'running' } }])
    expect(done.task_executions.early).toMatchObject({ status: 'completed', attempts: 1, output: { early: true } })
    expect(remote.calls).toHaveLength(2)
    expect(eager.calls).toHaveLength(1)
  })

  it('declared actions: a workflow naming another action is refused with 422 at tasks[i].action', async () => {
    const { name, remote } = await component(() => ({ status: 200, body: {} }), { actions: ['analyze_results'] })
    const refused = await call('POST', '/api/workflows', {
      name: unique('bad-action'),
      tasks: [
        { id: 'ok', component: name, action: 'analyze_results' },
        { id: 'bad', component: name, action: 'forecast' },
      ],
    })
    expect(refused.status).toBe(422)
    expect(refused.type).toContain('application/problem+json')
    expect(refused.body.errors).toEqual([{ path: 'tasks[1].action', message: expect.stringContaining('forecast') }])
    expect(remote.calls).toHaveLength(0)
  })
})
