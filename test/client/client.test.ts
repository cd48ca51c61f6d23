import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  getHarmoniaClient,
  getHarmoniaStateClient,
  HarmoniaApiError,
  type ExecutionEvent,
  type HarmoniaClient,
  type HarmoniaStateClient,
} from '../../src/client/index.js'
import type { HandlerContext } from '../../src/components/handler.js'
import type { RunningServer } from '../../src/http/server.js'
import { deferred, until } from '../support/async.js'
import { startTestServer } from './server.js'

/** Every client method against a real listening server (API.md shapes, field by field on the main resources). */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

let server: RunningServer
let client: HarmoniaClient
let state: HarmoniaStateClient
/** Gates held by `t.wait` tasks, by `<execution_id>:<task_id>`; opened by the tests (and all of them at the end). */
const gates = new Map<string, ReturnType<typeof deferred<void>>>()
const gateOf = (key: string) => {
  if (!gates.has(key)) gates.set(key, deferred<void>())
  return gates.get(key)!
}

beforeAll(async () => {
  server = await startTestServer({
    t: {
      wait: async (_input: unknown, ctx: HandlerContext) => {
        await gateOf(ctx.idempotencyKey).promise
        return { released: ctx.taskId }
      },
    },
  })
  client = getHarmoniaClient({ url: server.url })
  state = getHarmoniaStateClient({ url: server.url })
})
afterAll(async () => {
  for (const g of gates.values()) g.resolve()
  await server.close()
})

const echoWorkflow = (name: string) => ({
  name,
  description: 'two echoes',
  input: { who: { type: 'string' as const, default: 'world' } },
  output: { greeting: '${tasks.second.output.text}' },
  tasks: [
    { id: 'first', component: 'harmonia', action: 'echo', input: { text: 'hello ${input.who}' } },
    { id: 'second', component: 'harmonia', action: 'echo', input: { text: '${tasks.first.output.text}' }, depends_on: ['first'] },
  ],
})

/** A workflow whose `hold` task waits on its gate, with `after` depending on it. */
const heldWorkflow = (name: string) => ({
  name,
  tasks: [
    { id: 'hold', component: 't', action: 'wait' },
    { id: 'after', component: 'harmonia', action: 'noop', depends_on: ['hold'] },
  ],
})

async function collect(events: AsyncIterable<ExecutionEvent>): Promise<ExecutionEvent[]> {
  const seen: ExecutionEvent[] = []
  for await (const event of events) seen.push(event)
  return seen
}

async function runToEnd(workflowId: string, input?: Record<string, unknown>) {
  const started = await client.executeWorkflow({ workflow_id: workflowId, ...(input ? { input } : {}) })
  await collect(client.watchExecution(started.execution_id))
  return client.getWorkflowStatus(started.execution_id)
}

async function untilTaskRunning(executionId: string, taskId: string) {
  await until(async () => (await client.getWorkflowStatus(executionId)).task_executions[taskId]?.status === 'running', `${taskId} running`)
}

describe('workflows', () => {
  it('createWorkflow returns the Workflow of API.md, field by field', async () => {
    const workflow = await client.createWorkflow(echoWorkflow('client-create'))
    expect(Object.keys(workflow).sort()).toEqual(
      [
        'workflow_id',
        'name',
        'description',
        'version',
        'metadata',
        'input',
        'output',
        'tasks',
        'max_concurrency',
        'timeout',
        'fail_fast',
        'created_at',
        'updated_at',
      ].sort(),
    )
    expect(workflow.workflow_id).toMatch(UUID)
    expect(workflow.name).toBe('client-create')
    expect(workflow.description).toBe('two echoes')
    expect(workflow.version).toBe(1)
    expect(workflow.metadata).toEqual({})
    expect(workflow.input).toEqual({ who: { type: 'string', default: 'world' } })
    expect(workflow.output).toEqual({ greeting: '${tasks.second.output.text}' })
    expect(workflow.tasks.map((t) => t.id)).toEqual(['first', 'second'])
    expect(workflow.tasks[1]).toMatchObject({
      id: 'second',
      component: 'harmonia',
      action: 'echo',
      input: { text: '${tasks.first.output.text}' },
      depends_on: ['first'],
      metadata: {},
    })
    expect(workflow.tasks[0]!.depends_on).toEqual([])
    expect(workflow.max_concurrency).toBe(10)
    expect(workflow.timeout).toBeNull()
    expect(workflow.fail_fast).toBe(false)
    expect(workflow.created_at).toMatch(ISO)
    expect(workflow.updated_at).toMatch(ISO)
  })

  it('getWorkflow, updateWorkflow (version + 1), getWorkflow({version}), listWorkflows, deleteWorkflow', async () => {
    const created = await client.createWorkflow(echoWorkflow('client-crud'))
    expect(await client.getWorkflow(created.workflow_id)).toEqual(created)

    const updated = await client.updateWorkflow(created.workflow_id, { ...echoWorkflow('client-crud'), description: 'changed' })
    expect(updated).toMatchObject({ workflow_id: created.workflow_id, version: 2, description: 'changed', created_at: created.created_at })
    expect((await client.getWorkflow(created.workflow_id)).version).toBe(2)
    expect(await client.getWorkflow(created.workflow_id, { version: 1 })).toMatchObject({ version: 1, description: 'two echoes' })

    const page = await client.listWorkflows({ filter: 'client-crud' })
    expect(page).toEqual({
      items: [expect.objectContaining({ workflow_id: created.workflow_id, version: 2 })],
      total: 1,
      limit: 50,
      offset: 0,
    })
    const paged = await client.listWorkflows({ filter: 'client-', limit: 1, offset: 1 })
    expect(paged.limit).toBe(1)
    expect(paged.offset).toBe(1)
    expect(paged.items).toHaveLength(1)
    expect(paged.total).toBeGreaterThanOrEqual(2)

    await expect(client.deleteWorkflow(created.workflow_id)).resolves.toBeUndefined()
    await expect(client.getWorkflow(created.workflow_id)).rejects.toMatchObject({ status: 404 })
  })
})

describe('errors', () => {
  it('a 404 is a HarmoniaApiError carrying the problem+json body', async () => {
    const error = await client.getWorkflow('0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HarmoniaApiError)
    const apiError = error as HarmoniaApiError
    expect(apiError.status).toBe(404)
    expect(apiError.title).toBe('Not Found')
    expect(apiError.type).toEqual(expect.any(String))
    expect(apiError.detail).toContain('0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee')
    expect(apiError.errors).toEqual([])
    expect(apiError.problem).toMatchObject({ status: 404, title: 'Not Found' })
    expect(apiError.request).toBe('GET /api/workflows/0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee')
  })

  it('a 422 names each field in errors[{path, message}]', async () => {
    const error = await client
      .createWorkflow({ name: 'bad', tasks: [{ id: 'a', component: 'harmonia', action: 'noop', depends_on: ['missing'] }] })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HarmoniaApiError)
    const apiError = error as HarmoniaApiError
    expect(apiError.status).toBe(422)
    expect(apiError.errors.length).toBeGreaterThan(0)
    expect(apiError.errors[0]).toEqual({ path: expect.stringContaining('depends_on'), message: expect.any(String) })
  })

  it('execution input is checked against the workflow: 422 naming the field', async () => {
    const workflow = await client.createWorkflow({
      name: 'needs-input',
      input: { n: { type: 'integer', required: true } },
      tasks: [{ id: 'a', component: 'harmonia', action: 'echo', input: { n: '${input.n}' } }],
    })
    const error = (await client.executeWorkflow({ workflow_id: workflow.workflow_id }).catch((e: unknown) => e)) as HarmoniaApiError
    expect(error).toBeInstanceOf(HarmoniaApiError)
    expect(error.status).toBe(422)
    expect(error.errors.map((e) => e.path).join(' ')).toContain('n')
  })

  it('a forbidden transition is a 409', async () => {
    const workflow = await client.createWorkflow(echoWorkflow('done-then-pause'))
    const done = await runToEnd(workflow.workflow_id)
    await expect(client.pauseWorkflow(done.execution_id)).rejects.toMatchObject({ status: 409, name: 'HarmoniaApiError' })
  })

  it('network errors propagate as they are (not HarmoniaApiError)', async () => {
    const offline = getHarmoniaClient({ url: 'http://127.0.0.1:1' })
    const error = await offline.listWorkflows().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect(error).not.toBeInstanceOf(HarmoniaApiError)
  })
})

describe('executions', () => {
  it('executeWorkflow returns the Execution of API.md; getWorkflowStatus shows it completed with task outputs', async () => {
    const workflow = await client.createWorkflow(echoWorkflow('client-exec'))
    const started = await client.executeWorkflow({ workflow_id: workflow.workflow_id, input: { who: 'Ada' }, metadata: { by: 'test' } })
    expect(Object.keys(started).sort()).toEqual(
      [
        'execution_id',
        'workflow_id',
        'workflow_version',
        'status',
        'start_time',
        'end_time',
        'input',
        'output',
        'error',
        'metadata',
        'restored_from',
        'rerun_of',
        'parent',
        'task_executions',
      ].sort(),
    )
    expect(started.execution_id).toMatch(UUID)
    expect(started.workflow_id).toBe(workflow.workflow_id)
    expect(started.workflow_version).toBe(1)
    expect(['pending', 'running']).toContain(started.status)
    expect(started.input).toEqual({ who: 'Ada' })
    expect(started.metadata).toEqual({ by: 'test' })
    expect(started.restored_from).toBeNull()
    expect(started.error).toBeNull()
    expect(Object.keys(started.task_executions)).toEqual(['first', 'second'])

    await collect(client.watchExecution(started.execution_id))
    const done = await client.getWorkflowStatus(started.execution_id)
    expect(done.status).toBe('completed')
    expect(done.start_time).toMatch(ISO)
    expect(done.end_time).toMatch(ISO)
    expect(done.output).toEqual({ greeting: 'hello Ada' })
    const second = done.task_executions.second!
    expect(Object.keys(second).sort()).toEqual(
      ['task_id', 'status', 'start_time', 'end_time', 'input', 'output', 'error', 'retries', 'attempts'].sort(),
    )
    expect(second).toMatchObject({
      task_id: 'second',
      status: 'completed',
      input: { text: 'hello Ada' },
      output: { text: 'hello Ada' },
      error: null,
      retries: 0,
      attempts: 1,
    })
    expect(second.start_time).toMatch(ISO)
    expect(second.end_time).toMatch(ISO)
  })

  it('executeWorkflow runs a given version', async () => {
    const workflow = await client.createWorkflow(echoWorkflow('client-versions'))
    await client.updateWorkflow(workflow.workflow_id, { ...echoWorkflow('client-versions'), output: { v: 'two' } })
    const v1 = await client.executeWorkflow({ workflow_id: workflow.workflow_id, version: 1 })
    expect(v1.workflow_version).toBe(1)
    await collect(client.watchExecution(v1.execution_id))
  })

  it('listExecutions filters by workflow_id and status, without task_executions', async () => {
    const workflow = await client.createWorkflow(echoWorkflow('client-list-exec'))
    const a = await runToEnd(workflow.workflow_id)
    const b = await runToEnd(workflow.workflow_id)
    const page = await client.listExecutions({ workflow_id: workflow.workflow_id })
    expect(page.total).toBe(2)
    expect(page.limit).toBe(50)
    expect(page.offset).toBe(0)
    expect(page.items.map((e) => e.execution_id).sort()).toEqual([a.execution_id, b.execution_id].sort())
    for (const item of page.items) expect(item).not.toHaveProperty('task_executions')
    const { task_executions: _, ...summary } = a
    expect(page.items.find((e) => e.execution_id === a.execution_id)).toEqual(summary)
    expect((await client.listExecutions({ workflow_id: workflow.workflow_id, status: 'failed' })).total).toBe(0)
    expect((await client.listExecutions({ workflow_id: workflow.workflow_id, status: 'completed', limit: 1 })).items).toHaveLength(1)
  })

  it('pauseWorkflow, resumeWorkflow and cancelWorkflow answer with the status they lead to', async () => {
    const workflow = await client.createWorkflow(heldWorkflow('client-commands'))
    const started = await client.executeWorkflow({ workflow_id: workflow.workflow_id })
    await untilTaskRunning(started.execution_id, 'hold')

    expect(await client.pauseWorkflow(started.execution_id)).toMatchObject({ execution_id: started.execution_id, status: 'paused' })
    expect((await client.getWorkflowStatus(started.execution_id)).status).toBe('paused')
    expect(await client.resumeWorkflow(started.execution_id)).toMatchObject({ status: 'running' })
    expect(await client.cancelWorkflow(started.execution_id)).toMatchObject({ status: 'canceled' })

    const events = await collect(client.watchExecution(started.execution_id))
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['workflow_started', 'task_started', 'workflow_paused', 'workflow_resumed', 'workflow_canceled']),
    )
    expect(events.at(-1)!.type).toBe('workflow_canceled')
    expect((await client.getWorkflowStatus(started.execution_id)).status).toBe('canceled')
  })

  it('getExecutionHistory returns events, checkpoints and metrics', async () => {
    const workflow = await client.createWorkflow(echoWorkflow('client-history'))
    const done = await runToEnd(workflow.workflow_id)
    const history = await client.getExecutionHistory(done.execution_id)
    expect(Object.keys(history).sort()).toEqual(['checkpoints', 'events', 'execution_id', 'metrics'])
    expect(history.execution_id).toBe(done.execution_id)
    expect(history.events.map((e) => e.seq)).toEqual(history.events.map((_, i) => i + 1))
    expect(history.events[0]).toMatchObject({ seq: 1, type: 'workflow_started', execution_id: done.execution_id })
    expect(history.events.at(-1)!.type).toBe('workflow_completed')
    expect(history.checkpoints).toEqual([])
    expect(history.metrics).toMatchObject({ total_tasks: 2, retries: 0, task_counts: expect.objectContaining({ completed: 2 }) })
    expect(history.metrics.duration_ms).toEqual(expect.any(Number))
  })
})

describe('templates', () => {
  it('createTemplate, getTemplate, listTemplates, instantiateTemplate', async () => {
    const source = await client.createWorkflow({
      name: 'greeter',
      tasks: [{ id: 'say', component: 'harmonia', action: 'echo', input: { text: 'hi ${params.who}', times: '${params.times}' } }],
    })
    const template = await client.createTemplate({
      name: 'greeter_template',
      workflow_definition_id: source.workflow_id,
      description: 'greets',
      parameters: { who: { type: 'string', required: true }, times: { type: 'integer', default: 2 } },
    })
    expect(Object.keys(template).sort()).toEqual(
      ['template_id', 'name', 'description', 'workflow_definition_id', 'workflow_version', 'parameters', 'version', 'created_at'].sort(),
    )
    expect(template).toMatchObject({
      name: 'greeter_template',
      description: 'greets',
      workflow_definition_id: source.workflow_id,
      parameters: { who: { type: 'string', required: true }, times: { type: 'integer', default: 2 } },
      version: 1,
    })
    expect(template.template_id).toMatch(UUID)
    expect(template.created_at).toMatch(ISO)
    expect(await client.getTemplate(template.template_id)).toEqual(template)
    const page = await client.listTemplates({ filter: 'greeter_' })
    expect(page).toMatchObject({ total: 1, limit: 50, offset: 0, items: [template] })

    const instance = await client.instantiateTemplate(template.template_id, { parameter_values: { who: 'Bo' }, name: 'greet-bo' })
    expect(instance.name).toBe('greet-bo')
    expect(instance.workflow_id).not.toBe(source.workflow_id)
    expect(instance.tasks[0]!.input).toEqual({ text: 'hi Bo', times: 2 })
    const done = await runToEnd(instance.workflow_id)
    expect(done.task_executions.say!.output).toEqual({ text: 'hi Bo', times: 2 })

    const missing = (await client
      .instantiateTemplate(template.template_id, { parameter_values: {} })
      .catch((e: unknown) => e)) as HarmoniaApiError
    expect(missing).toBeInstanceOf(HarmoniaApiError)
    expect(missing.status).toBe(422)
    expect(missing.errors.map((e) => e.path).join(' ')).toContain('who')
  })
})

describe('state and checkpoints', () => {
  it('saveState/loadState, createCheckpoint/getCheckpoint/listCheckpoints, restoreFromCheckpoint', async () => {
    const workflow = await client.createWorkflow({
      name: 'client-checkpoint',
      tasks: [
        { id: 'first', component: 'harmonia', action: 'echo', input: { n: 1 } },
        { id: 'hold', component: 't', action: 'wait', depends_on: ['first'] },
        { id: 'last', component: 'harmonia', action: 'echo', input: { cursor: '${state.cursor}' }, depends_on: ['hold'] },
      ],
    })
    const started = await client.executeWorkflow({ workflow_id: workflow.workflow_id })
    await untilTaskRunning(started.execution_id, 'hold')

    const saved = await state.saveState(started.execution_id, { cursor: 42 })
    expect(saved).toEqual({ execution_id: started.execution_id, state: { cursor: 42 }, updated_at: expect.stringMatching(ISO) })
    expect(await state.loadState(started.execution_id)).toMatchObject({ execution_id: started.execution_id, state: { cursor: 42 } })

    const checkpoint = await state.createCheckpoint(started.execution_id)
    expect(Object.keys(checkpoint).sort()).toEqual(
      ['checkpoint_id', 'execution_id', 'created_at', 'workflow_status', 'task_statuses', 'completed_tasks', 'state_data'].sort(),
    )
    expect(checkpoint).toMatchObject({
      execution_id: started.execution_id,
      workflow_status: 'running',
      task_statuses: { first: 'completed', hold: 'running', last: 'pending' },
      completed_tasks: ['first'],
      state_data: { cursor: 42 },
    })
    expect(checkpoint.checkpoint_id).toMatch(UUID)
    expect(await state.getCheckpoint(checkpoint.checkpoint_id)).toEqual(checkpoint)
    expect(await state.listCheckpoints({ execution_id: started.execution_id })).toEqual({
      items: [checkpoint],
      total: 1,
      limit: 50,
      offset: 0,
    })

    const restored = await client.restoreFromCheckpoint(checkpoint.checkpoint_id)
    expect(restored.restored_from).toBe(checkpoint.checkpoint_id)
    expect(restored.execution_id).not.toBe(started.execution_id)
    expect(restored.task_executions.first).toMatchObject({ status: 'completed', output: { n: 1 } })
    gateOf(`${restored.execution_id}:hold`).resolve()
    await collect(client.watchExecution(restored.execution_id))
    const done = await client.getWorkflowStatus(restored.execution_id)
    expect(done.status).toBe('completed')
    expect(done.task_executions.last!.output).toEqual({ cursor: 42 })

    gateOf(`${started.execution_id}:hold`).resolve()
    await collect(client.watchExecution(started.execution_id))
  })
})

describe('watchExecution', () => {
  it('yields the whole stream in seq order and ends after the terminal event', async () => {
    const workflow = await client.createWorkflow(heldWorkflow('client-watch'))
    const started = await client.executeWorkflow({ workflow_id: workflow.workflow_id })
    const watching = collect(client.watchExecution(started.execution_id))
    await untilTaskRunning(started.execution_id, 'hold')
    gateOf(`${started.execution_id}:hold`).resolve()
    const events = await watching

    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1))
    expect(events.map((e) => [e.type, e.task_id])).toEqual([
      ['workflow_started', undefined],
      ['task_started', 'hold'],
      ['task_completed', 'hold'],
      ['task_started', 'after'],
      ['task_completed', 'after'],
      ['workflow_completed', undefined],
    ])
    for (const e of events) {
      expect(e.execution_id).toBe(started.execution_id)
      expect(e.timestamp).toMatch(ISO)
      expect(e.data).toEqual(expect.any(Object))
    }
    expect(events[2]!.data).toMatchObject({ output: { released: 'hold' } })
    // The history agrees with what was streamed.
    expect((await client.getExecutionHistory(started.execution_id)).events).toEqual(events)
    // `after` resumes after a seq.
    expect((await collect(client.watchExecution(started.execution_id, { after: 4 }))).map((e) => e.seq)).toEqual([5, 6])
  })

  it('reconnects with Last-Event-ID after a dropped connection: every event once, in order', async () => {
    const workflow = await client.createWorkflow(heldWorkflow('client-reconnect'))
    const started = await client.executeWorkflow({ workflow_id: workflow.workflow_id })
    const requests: (string | null)[] = []
    // The first SSE response is cut after two frames, as a dropped connection would be.
    const dropping: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      if (!(input instanceof URL ? input.href : typeof input === 'string' ? input : input.url).includes('/events/')) return response
      requests.push(new Headers(init?.headers).get('last-event-id'))
      if (requests.length > 1) return response
      return new Response(cutAfterFrames(response.body!, 2), { status: response.status, headers: response.headers })
    }
    const flaky = getHarmoniaClient({ url: server.url, fetch: dropping })
    const watching = collect(flaky.watchExecution(started.execution_id, { initialDelayMs: 10 }))
    await until(() => requests.length === 2, 'the reconnection')
    gateOf(`${started.execution_id}:hold`).resolve()
    const events = await watching

    expect(requests).toEqual([null, '2'])
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6])
    expect(events.at(-1)!.type).toBe('workflow_completed')
  })

  it('gives up after bounded retries when the server stays unreachable', async () => {
    const offline = getHarmoniaClient({ url: 'http://127.0.0.1:1' })
    const error = await collect(offline.watchExecution('0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee', { maxRetries: 2, initialDelayMs: 1 })).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(TypeError)
  })

  it('an unknown execution is a HarmoniaApiError 404, not retried', async () => {
    await expect(collect(client.watchExecution('0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee'))).rejects.toMatchObject({
      name: 'HarmoniaApiError',
      status: 404,
    })
  })

  it('breaking out of the loop closes the stream', async () => {
    const workflow = await client.createWorkflow(heldWorkflow('client-break'))
    const started = await client.executeWorkflow({ workflow_id: workflow.workflow_id })
    const seen: string[] = []
    for await (const event of client.watchExecution(started.execution_id)) {
      seen.push(event.type)
      if (event.type === 'task_started') break
    }
    expect(seen).toEqual(['workflow_started', 'task_started'])
    gateOf(`${started.execution_id}:hold`).resolve()
  })
})

describe('auth', () => {
  it('sends the bearer token on REST and SSE; without it the server answers 401', async () => {
    const secured = await startTestServer({}, { tokens: ['s3cret'] })
    try {
      const anonymous = getHarmoniaClient({ url: secured.url })
      await expect(anonymous.listWorkflows()).rejects.toMatchObject({ status: 401, name: 'HarmoniaApiError' })
      const authed = getHarmoniaClient({ url: secured.url, token: 's3cret' })
      const workflow = await authed.createWorkflow(echoWorkflow('secured'))
      const started = await authed.executeWorkflow({ workflow_id: workflow.workflow_id })
      await expect(collect(anonymous.watchExecution(started.execution_id))).rejects.toMatchObject({ status: 401 })
      const events = await collect(authed.watchExecution(started.execution_id))
      expect(events.at(-1)!.type).toBe('workflow_completed')
      const authedState = getHarmoniaStateClient({ url: secured.url, token: 's3cret' })
      expect((await authedState.loadState(started.execution_id)).state).toEqual({})
    } finally {
      await secured.close()
    }
  })
})

/** A copy of an SSE body that errors (as a dropped connection does) after `frames` complete frames. */
function cutAfterFrames(body: ReadableStream<Uint8Array>, frames: number): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  const encoder = new TextEncoder()
  let text = ''
  let sent = 0
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // Errored on the pull after the last frame: an error discards what is queued and not yet read.
      if (sent === frames) {
        await reader.cancel()
        return controller.error(new TypeError('terminated'))
      }
      for (;;) {
        const end = text.indexOf('\n\n')
        if (end !== -1) {
          const frame = text.slice(0, end + 2)
          text = text.slice(end + 2)
          controller.enqueue(encoder.encode(frame))
          if (!frame.startsWith(':')) sent++
          return
        }
        const { done, value } = await reader.read()
        if (done) return controller.close()
        text += decoder.decode(value, { stream: true })
      }
    },
    cancel: () => reader.cancel(),
  })
}
