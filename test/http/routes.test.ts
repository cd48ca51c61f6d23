import { afterEach, beforeEach, expect, it } from 'vitest'
import type { HandlerContext } from '../../src/components/handler.js'
import { createHarmonia, type Harmonia } from '../../src/harmonia.js'
import { createApp } from '../../src/http/app.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { deferred, describeEachStore, testStore, until } from '../support/harness.js'

/** Every REST route of API.md through a real listening server, response shapes asserted field by field. */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

let server: RunningServer
let harmonia: Harmonia
let gate = deferred()

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(server.url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: text ? (JSON.parse(text) as Record<string, any>) : undefined,
  }
}

describeEachStore('HTTP routes', () => {
  beforeEach(async () => {
    gate = deferred()
    harmonia = await createHarmonia({
      store: testStore(),
      recover: false,
      components: {
        ergon: { execute_command: (input: { command: string }) => ({ result: input.command.replace(/^echo /, '') }) },
        t: { wait: (_: unknown, ctx: HandlerContext) => gate.promise.then(() => ({ waited: ctx.taskId })) },
      },
      strictComponents: false,
    })
    server = await startServer({ harmonia, port: 0, hostname: '127.0.0.1', tokens: [] })
  })
  afterEach(async () => {
    gate.resolve()
    await server.close()
    await harmonia.close()
  })

  it('workflows: create, get, get a version, list, update, delete — also under /api/v1', async () => {
    const body = {
      name: 'example_workflow',
      description: 'Example workflow',
      metadata: { team: 'a' },
      input: { who: { type: 'string', default: 'world' } },
      output: { said: '${tasks.task1.output.result}' },
      tasks: [{ id: 'task1', component: 'ergon', action: 'execute_command', input: { command: 'echo ${input.who}' } }],
      max_concurrency: 3,
      timeout: 60,
      fail_fast: true,
    }
    const created = await call('POST', '/api/workflows', body)
    expect(created.status).toBe(201)
    const wf = created.body!
    expect(Object.keys(wf).sort()).toEqual(
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
    expect(wf.workflow_id).toMatch(UUID)
    expect(wf).toMatchObject({
      name: 'example_workflow',
      description: 'Example workflow',
      version: 1,
      metadata: { team: 'a' },
      max_concurrency: 3,
      timeout: 60,
      fail_fast: true,
    })
    expect(wf.input).toEqual({ who: { type: 'string', default: 'world' } })
    expect(wf.output).toEqual({ said: '${tasks.task1.output.result}' })
    expect(wf.tasks).toEqual([
      { id: 'task1', component: 'ergon', action: 'execute_command', input: { command: 'echo ${input.who}' }, depends_on: [], metadata: {} },
    ])
    expect(wf.created_at).toMatch(ISO)

    expect((await call('GET', `/api/workflows/${wf.workflow_id}`)).body).toEqual(wf)
    expect((await call('GET', `/api/v1/workflows/${wf.workflow_id}`)).body).toEqual(wf)
    const list = await call('GET', '/api/workflows?filter=example_&limit=10&offset=0')
    expect(list.status).toBe(200)
    expect(list.body).toMatchObject({ limit: 10, offset: 0 })
    expect(list.body!.items.map((w: { workflow_id: string }) => w.workflow_id)).toContain(wf.workflow_id)
    expect(list.body!.total).toBeGreaterThanOrEqual(1)

    const updated = await call('PUT', `/api/workflows/${wf.workflow_id}`, { ...body, description: 'v2' })
    expect(updated.status).toBe(200)
    expect(updated.body).toMatchObject({ workflow_id: wf.workflow_id, version: 2, description: 'v2', created_at: wf.created_at })
    expect((await call('GET', `/api/workflows/${wf.workflow_id}?version=1`)).body!.description).toBe('Example workflow')

    expect((await call('DELETE', `/api/workflows/${wf.workflow_id}`)).status).toBe(204)
    const gone = await call('GET', `/api/workflows/${wf.workflow_id}`)
    expect(gone.status).toBe(404)
    expect(gone.type).toContain('application/problem+json')
  })

  it('executions: start, get, list, pause, resume, cancel, history', async () => {
    const wf = (
      await call('POST', '/api/workflows', {
        name: 'run',
        tasks: [
          { id: 'task1', component: 'ergon', action: 'execute_command', input: { command: 'echo hi' } },
          { id: 'slow', component: 't', action: 'wait', depends_on: ['task1'] },
          { id: 'after', component: 'harmonia', action: 'echo', input: { data: '${tasks.task1.output.result}' }, depends_on: ['slow'] },
        ],
      })
    ).body!
    const started = await call('POST', '/api/executions', { workflow_id: wf.workflow_id, input: { a: 1 }, metadata: { by: 'test' } })
    expect(started.status).toBe(201)
    const ex = started.body!
    expect(Object.keys(ex).sort()).toEqual(
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
    expect(ex).toMatchObject({
      workflow_id: wf.workflow_id,
      workflow_version: 1,
      input: { a: 1 },
      metadata: { by: 'test' },
      restored_from: null,
    })
    expect(['pending', 'running']).toContain(ex.status)
    expect(ex.execution_id).toMatch(UUID)
    expect(Object.keys(ex.task_executions.task1).sort()).toEqual(
      ['task_id', 'status', 'start_time', 'end_time', 'input', 'output', 'error', 'retries', 'attempts'].sort(),
    )

    await until(
      async () => (await call('GET', `/api/executions/${ex.execution_id}`)).body!.task_executions.slow.status === 'running',
      'slow running',
    )
    const running = (await call('GET', `/api/executions/${ex.execution_id}`)).body!
    expect(running.status).toBe('running')
    expect(running.start_time).toMatch(ISO)
    expect(running.task_executions.task1).toMatchObject({
      status: 'completed',
      attempts: 1,
      retries: 0,
      output: { result: 'hi' },
      error: null,
    })
    expect(running.task_executions.task1.end_time).toMatch(ISO)

    const paused = await call('POST', `/api/executions/${ex.execution_id}/pause`)
    expect(paused.status).toBe(202)
    expect(paused.body!.status).toBe('paused')
    expect((await call('POST', `/api/executions/${ex.execution_id}/pause`)).status).toBe(409)
    const resumed = await call('POST', `/api/executions/${ex.execution_id}/resume`)
    expect(resumed.status).toBe(202)
    expect(resumed.body!.status).toBe('running')
    const canceled = await call('POST', `/api/v1/executions/${ex.execution_id}/cancel`)
    expect(canceled.status).toBe(202)
    expect(canceled.body!.status).toBe('canceled')
    await harmonia.waitForExecution(ex.execution_id)
    const done = (await call('GET', `/api/executions/${ex.execution_id}`)).body!
    expect(done).toMatchObject({ status: 'canceled', task_executions: { slow: { status: 'canceled' }, after: { status: 'canceled' } } })
    expect(done.end_time).toMatch(ISO)

    const list = await call('GET', `/api/executions?workflow_id=${wf.workflow_id}&status=canceled`)
    expect(list.body).toMatchObject({ total: 1, limit: 50, offset: 0 })
    expect(list.body!.items[0]).not.toHaveProperty('task_executions')
    expect(list.body!.items[0].execution_id).toBe(ex.execution_id)

    const history = (await call('GET', `/api/executions/${ex.execution_id}/history`)).body!
    expect(Object.keys(history).sort()).toEqual(['checkpoints', 'events', 'execution_id', 'metrics'])
    expect(history.events.map((e: { seq: number }) => e.seq)).toEqual(history.events.map((_: unknown, i: number) => i + 1))
    expect(history.events[0]).toMatchObject({ seq: 1, type: 'workflow_started', execution_id: ex.execution_id })
    expect(history.events.at(-1).type).toBe('workflow_canceled')
    expect(history.metrics).toMatchObject({ total_tasks: 3, task_counts: { completed: 1, canceled: 2 } })
  })

  it('templates: create, get, list, instantiate', async () => {
    const wf = (
      await call('POST', '/api/workflows', {
        name: 'proc',
        tasks: [
          { id: 'p', component: 'harmonia', action: 'echo', input: { file: '${params.input_file}', fmt: '${params.output_format}' } },
        ],
      })
    ).body!
    const created = await call('POST', '/api/templates', {
      name: 'process_data_template',
      workflow_definition_id: wf.workflow_id,
      parameters: {
        input_file: { type: 'string', required: true, description: 'Input file path' },
        output_format: { type: 'string', required: false, default: 'json' },
      },
    })
    expect(created.status).toBe(201)
    const t = created.body!
    expect(Object.keys(t).sort()).toEqual(
      ['template_id', 'name', 'description', 'workflow_definition_id', 'workflow_version', 'parameters', 'version', 'created_at'].sort(),
    )
    expect(t).toMatchObject({ name: 'process_data_template', workflow_definition_id: wf.workflow_id, version: 1 })
    expect((await call('GET', `/api/templates/${t.template_id}`)).body).toEqual(t)
    expect(
      (await call('GET', '/api/templates?filter=process_data')).body!.items.map((x: { template_id: string }) => x.template_id),
    ).toContain(t.template_id)
    const inst = await call('POST', `/api/templates/${t.template_id}/instantiate`, {
      parameter_values: { input_file: '/a.csv', output_format: 'xml' },
    })
    expect(inst.status).toBe(201)
    expect(inst.body!.tasks[0].input).toEqual({ file: '/a.csv', fmt: 'xml' })
    const missing = await call('POST', `/api/templates/${t.template_id}/instantiate`, { parameter_values: {} })
    expect(missing.status).toBe(422)
    expect(missing.body!.errors[0].path).toBe('parameter_values.input_file')
  })

  it('state and checkpoints: save, load, create, get, list, restore', async () => {
    const wf = (
      await call('POST', '/api/workflows', {
        name: 'cp',
        tasks: [
          { id: 'a', component: 'harmonia', action: 'echo', input: { v: 1 } },
          { id: 'b', component: 't', action: 'wait', depends_on: ['a'] },
        ],
      })
    ).body!
    const ex = (await call('POST', '/api/executions', { workflow_id: wf.workflow_id })).body!
    await until(
      async () => (await call('GET', `/api/executions/${ex.execution_id}`)).body!.task_executions.b.status === 'running',
      'b running',
    )
    const saved = await call('PUT', `/api/state/${ex.execution_id}`, { state: { step: 2 } })
    expect(saved.status).toBe(200)
    expect(saved.body).toMatchObject({ execution_id: ex.execution_id, state: { step: 2 } })
    expect(saved.body!.updated_at).toMatch(ISO)
    expect((await call('GET', `/api/state/${ex.execution_id}`)).body).toEqual(saved.body)

    const cp = await call('POST', '/api/checkpoints', { execution_id: ex.execution_id })
    expect(cp.status).toBe(201)
    expect(Object.keys(cp.body!).sort()).toEqual(
      ['checkpoint_id', 'execution_id', 'created_at', 'workflow_status', 'task_statuses', 'completed_tasks', 'state_data'].sort(),
    )
    expect(cp.body).toMatchObject({
      execution_id: ex.execution_id,
      workflow_status: 'running',
      task_statuses: { a: 'completed', b: 'running' },
      completed_tasks: ['a'],
      state_data: { step: 2 },
    })
    expect((await call('GET', `/api/checkpoints/${cp.body!.checkpoint_id}`)).body).toEqual(cp.body)
    expect((await call('GET', `/api/checkpoints?execution_id=${ex.execution_id}`)).body).toMatchObject({ total: 1, items: [cp.body] })

    gate.resolve()
    const restored = await call('POST', `/api/checkpoints/${cp.body!.checkpoint_id}/restore`)
    expect(restored.status).toBe(201)
    expect(restored.body).toMatchObject({
      restored_from: cp.body!.checkpoint_id,
      task_executions: { a: { status: 'completed', output: { v: 1 } } },
    })
    const done = await harmonia.waitForExecution(restored.body!.execution_id)
    expect(done.status).toBe('completed')
    expect(done.task_executions.b!.output).toEqual({ waited: 'b' })
  })

  it('health, ready, openapi and docs; app.request() serves the same routes in process', async () => {
    const health = await call('GET', '/health')
    expect(health.body).toMatchObject({ status: 'healthy', component: 'harmonia', version: expect.any(String), port: server.port })
    expect((await call('GET', '/ready')).body).toMatchObject({ ready: true })
    const spec = await call('GET', '/openapi.json')
    expect(spec.body!.openapi).toBe('3.1.0')
    const app = createApp({ harmonia })
    const res = await app.request('/api/workflows', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', tasks: [] }),
    })
    expect(res.status).toBe(422)
    expect(((await res.json()) as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toEqual(['tasks'])
    const missing = await app.request('/api/executions/01234567-89ab-7def-8123-456789abcdef')
    expect(missing.status).toBe(404)
    expect(missing.headers.get('content-type')).toContain('application/problem+json')
  })
})
