import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { getHarmoniaClient } from '../../src/client/index.js'
import { createHarmonia, type Harmonia } from '../../src/harmonia.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { apiClient, type ApiCall } from '../support/api.js'
import { describeEachStore, testStore, until } from '../support/harness.js'
import { ROOT } from '../support/processes.js'

/**
 * Rerun, workflow versions, template versions and JSON Schema inputs through a real listening server (API.md Part 2
 * "Control flow"), on every store; rerun also through the TypeScript client and the `harmonia` CLI.
 */

let server: RunningServer | undefined
let harmonia: Harmonia | undefined
let call: ApiCall

async function setup(): Promise<void> {
  harmonia = await createHarmonia({ store: testStore(), recover: false })
  server = await startServer({ harmonia, port: 0, hostname: '127.0.0.1', tokens: [], graceMs: 100 })
  call = apiClient(() => server!.url)
}

async function shut(): Promise<void> {
  await server?.close()
  await harmonia?.close()
  server = undefined
  harmonia = undefined
}

async function createWorkflow(body: Record<string, unknown>): Promise<string> {
  const created = await call('POST', '/api/workflows', body)
  expect(created.status, created.text).toBe(201)
  return created.body.workflow_id as string
}

async function start(workflowId: string, input?: unknown): Promise<string> {
  const started = await call('POST', '/api/executions', { workflow_id: workflowId, ...(input === undefined ? {} : { input }) })
  expect(started.status, started.text).toBe(201)
  return started.body.execution_id as string
}

const get = async (id: string) => (await call('GET', `/api/executions/${id}`)).body

async function finished(id: string): Promise<any> {
  let execution: any
  await until(async () => !['pending', 'running', 'paused'].includes((execution = await get(id)).status), `${id} to finish`)
  return execution
}

const startedTasks = async (id: string): Promise<string[]> =>
  ((await call('GET', `/api/executions/${id}/history`)).body.events as any[])
    .filter((e) => e.type === 'task_started')
    .map((e) => e.task_id as string)
    .sort()

/** a → b → c → d, and x on its own; every task echoes the input's `k` (c and d with what is upstream). */
const chain = {
  name: 'chain',
  input: { k: { type: 'string', default: 'old' } },
  tasks: [
    { id: 'a', component: 'harmonia', action: 'echo', input: { k: '${input.k}' } },
    { id: 'b', component: 'harmonia', action: 'echo', input: { k: '${input.k}', a: '${tasks.a.output.k}' }, depends_on: ['a'] },
    { id: 'c', component: 'harmonia', action: 'echo', input: { k: '${input.k}', b: '${tasks.b.output.k}' }, depends_on: ['b'] },
    { id: 'd', component: 'harmonia', action: 'echo', input: { k: '${input.k}', c: '${tasks.c.output.k}' }, depends_on: ['c'] },
    { id: 'x', component: 'harmonia', action: 'echo', input: { k: '${input.k}' } },
  ],
  output: { d: '${tasks.d.output}' },
}

/** What a rerun of `chain` with tasks ["c"] and input k=new must look like, and that c and d alone ran again. */
async function expectChainRerun(sourceId: string, rerun: any): Promise<void> {
  expect(rerun).toMatchObject({ rerun_of: sourceId, restored_from: null })
  expect(rerun.execution_id).not.toBe(sourceId)
  const done = await finished(rerun.execution_id)
  expect(done.status).toBe('completed')
  expect(done.input).toEqual({ k: 'new' })
  const t = done.task_executions
  expect(t.a).toMatchObject({ status: 'completed', output: { k: 'old' } })
  expect(t.b).toMatchObject({ status: 'completed', output: { k: 'old', a: 'old' } })
  expect(t.x).toMatchObject({ status: 'completed', output: { k: 'old' } })
  expect(t.c).toMatchObject({ status: 'completed', output: { k: 'new', b: 'old' }, attempts: 1 })
  expect(t.d).toMatchObject({ status: 'completed', output: { k: 'new', c: 'new' }, attempts: 1 })
  expect(done.output).toEqual({ d: { k: 'new', c: 'new' } })
  expect(await startedTasks(rerun.execution_id)).toEqual(['c', 'd'])
}

// One block (one database per store) for all of them: opening databases is what costs time here.
describeEachStore('rerun, versions and JSON Schema inputs over HTTP', () => {
  afterEach(shut)

  it('tasks ["c"] reruns c and its downstream with the new input; the rest keep their outputs and do not start', async () => {
    await setup()
    const source = await finished(await start(await createWorkflow(chain)))
    expect(source.output).toEqual({ d: { k: 'old', c: 'old' } })
    const rerun = await call('POST', `/api/executions/${source.execution_id}/rerun`, { tasks: ['c'], input: { k: 'new' } })
    expect(rerun.status, rerun.text).toBe(201)
    await expectChainRerun(source.execution_id, rerun.body)
    // The source is untouched.
    expect((await get(source.execution_id)).output).toEqual({ d: { k: 'old', c: 'old' } })
  })

  it('without tasks the failed and skipped ones run again; unknown task 422, a running execution 409, unknown id 404', async () => {
    await setup()
    const flaky = await createWorkflow({
      name: 'flaky',
      tasks: [
        { id: 'ok', component: 'harmonia', action: 'echo', input: { v: 1 } },
        // Fails on attempt 1 only: the rerun's attempt 1 fails too unless input changes; `attempts` decides.
        { id: 'bad', component: 'harmonia', action: 'fail', input: { attempts: '${input.fail_until}', retryable: false } },
        { id: 'after', component: 'harmonia', action: 'echo', input: { from: '${tasks.bad.output}' }, depends_on: ['bad'] },
      ],
    })
    const source = await finished(await start(flaky, { fail_until: 1 }))
    expect(source.status).toBe('failed')
    expect(source.task_executions.after.status).toBe('skipped')
    const rerun = await call('POST', `/api/executions/${source.execution_id}/rerun`, { input: { fail_until: 0 } })
    expect(rerun.status, rerun.text).toBe(201)
    const done = await finished(rerun.body.execution_id)
    expect(done.status).toBe('completed')
    expect(done.task_executions.bad).toMatchObject({ status: 'completed', output: { attempt: 1 } })
    expect(done.task_executions.after.output).toEqual({ from: { attempt: 1 } })
    expect(await startedTasks(done.execution_id)).toEqual(['after', 'bad'])

    const unknown = await call('POST', `/api/executions/${source.execution_id}/rerun`, { tasks: ['ok', 'nope'] })
    expect(unknown.status).toBe(422)
    expect(unknown.body.errors).toEqual([{ path: 'tasks[1]', message: expect.stringContaining('nope') }])
    const nothing = await call('POST', `/api/executions/${done.execution_id}/rerun`, {})
    expect(nothing.status).toBe(409)
    const waiting = await start(
      await createWorkflow({
        name: 'waits',
        tasks: [{ id: 'w', component: 'harmonia', action: 'wait_for_signal', input: { name: 'go' } }],
      }),
    )
    expect((await call('POST', `/api/executions/${waiting}/rerun`, { tasks: ['w'] })).status).toBe(409)
    expect((await call('POST', '/api/executions/01890000-0000-7000-8000-000000000000/rerun', {})).status).toBe(404)
    expect((await call('POST', `/api/executions/${waiting}/cancel`)).status).toBe(202)
  })

  const versioned = (says: string) => ({
    name: 'versioned',
    tasks: [
      { id: 'hold', component: 'harmonia', action: 'wait_for_signal', input: { name: 'go' } },
      { id: 'say', component: 'harmonia', action: 'echo', input: { says }, depends_on: ['hold'] },
    ],
    output: { says: '${tasks.say.output.says}' },
  })

  it('an execution started on version 1 finishes on version 1 after an update; /versions lists both newest first', async () => {
    await setup()
    const workflow = await createWorkflow(versioned('one'))
    const onOne = await start(workflow)
    await until(async () => ((await call('GET', `/api/executions/${onOne}/signals`)).body as any[]).some((s) => s.waiting), 'v1 holds')
    const updated = await call('PUT', `/api/workflows/${workflow}`, versioned('two'))
    expect(updated.body.version).toBe(2)
    const onTwo = await start(workflow)
    for (const id of [onOne, onTwo]) {
      await until(async () => ((await call('GET', `/api/executions/${id}/signals`)).body as any[]).some((s) => s.waiting), 'holds')
      expect((await call('POST', `/api/executions/${id}/signals/go`, {})).body.delivered).toBe(true)
    }
    expect(await finished(onOne)).toMatchObject({ status: 'completed', workflow_version: 1, output: { says: 'one' } })
    expect(await finished(onTwo)).toMatchObject({ status: 'completed', workflow_version: 2, output: { says: 'two' } })
    // A rerun of the version-1 execution stays on version 1.
    const rerun = await call('POST', `/api/executions/${onOne}/rerun`, { tasks: ['say'] })
    expect(rerun.status, rerun.text).toBe(201)
    expect(await finished(rerun.body.execution_id)).toMatchObject({ workflow_version: 1, output: { says: 'one' }, rerun_of: onOne })
    // Starting an older version on purpose.
    const again = await call('POST', '/api/executions', { workflow_id: workflow, version: 1 })
    expect(again.body.workflow_version).toBe(1)
    await call('POST', `/api/executions/${again.body.execution_id}/cancel`)

    const versions = await call('GET', `/api/workflows/${workflow}/versions`)
    expect(versions.status).toBe(200)
    expect(versions.body).toMatchObject({ total: 2, limit: 50, offset: 0 })
    expect(versions.body.items.map((v: any) => v.version)).toEqual([2, 1])
    for (const v of versions.body.items) expect(Object.keys(v).sort()).toEqual(['created_at', 'version'])
    const page = await call('GET', `/api/workflows/${workflow}/versions?limit=1&offset=1`)
    expect(page.body).toMatchObject({ total: 2, limit: 1, offset: 1, items: [{ version: 1 }] })
    expect((await call('GET', `/api/workflows/${workflow}?version=1`)).body.tasks[1].input).toEqual({ says: 'one' })
    expect((await call('GET', `/api/workflows/${workflow}`)).body.tasks[1].input).toEqual({ says: 'two' })
    expect((await call('GET', '/api/workflows/01890000-0000-7000-8000-000000000000/versions')).status).toBe(404)
  })

  it('template versions: PUT makes version 2; GET ?version=1 and the latest; instantiate by version; DELETE', async () => {
    await setup()
    const workflow = await createWorkflow({
      name: 'greeter',
      tasks: [{ id: 'greet', component: 'harmonia', action: 'echo', input: { text: '${params.greeting}, ${params.who}!' } }],
    })
    const created = await call('POST', '/api/templates', {
      name: 'greeting',
      workflow_definition_id: workflow,
      parameters: { greeting: { type: 'string', default: 'Hi' }, who: { type: 'string', required: true } },
    })
    expect(created.status, created.text).toBe(201)
    const id = created.body.template_id as string
    expect(created.body.version).toBe(1)
    const put = await call('PUT', `/api/templates/${id}`, {
      parameters: { greeting: { type: 'string', default: 'Hello' }, who: { type: 'string', required: true } },
    })
    expect(put.status, put.text).toBe(200)
    expect(put.body).toMatchObject({ template_id: id, name: 'greeting', version: 2 })
    expect((await call('GET', `/api/templates/${id}`)).body).toMatchObject({ version: 2, parameters: { greeting: { default: 'Hello' } } })
    expect((await call('GET', `/api/templates/${id}?version=1`)).body).toMatchObject({
      version: 1,
      parameters: { greeting: { default: 'Hi' } },
    })
    expect((await call('GET', `/api/templates/${id}?version=3`)).status).toBe(404)

    const text = async (body: Record<string, unknown>) => {
      const made = await call('POST', `/api/templates/${id}/instantiate`, body)
      expect(made.status, made.text).toBe(201)
      return made.body.tasks[0].input.text as string
    }
    expect(await text({ parameter_values: { who: 'Ada' } })).toBe('Hello, Ada!')
    expect(await text({ parameter_values: { who: 'Ada' }, version: 1 })).toBe('Hi, Ada!')
    expect((await call('POST', `/api/templates/${id}/instantiate`, { parameter_values: {}, version: 1 })).status).toBe(422)
    expect((await call('POST', `/api/templates/${id}/instantiate`, { parameter_values: { who: 'x' }, version: 9 })).status).toBe(404)

    expect((await call('DELETE', `/api/templates/${id}`)).status).toBe(204)
    expect((await call('GET', `/api/templates/${id}`)).status).toBe(404)
    expect((await call('GET', `/api/templates/${id}?version=1`)).status).toBe(404)
    expect((await call('POST', `/api/templates/${id}/instantiate`, { parameter_values: { who: 'x' } })).status).toBe(404)
    expect((await call('DELETE', `/api/templates/${id}`)).status).toBe(404)
  })

  const order = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    required: ['customer', 'items'],
    properties: {
      customer: {
        type: 'object',
        required: ['name'],
        properties: { name: { type: 'string' }, tier: { type: 'string', enum: ['gold', 'silver'], default: 'silver' } },
      },
      priority: { type: 'integer', minimum: 1, default: 3 },
      items: {
        type: 'array',
        items: {
          type: 'object',
          required: ['sku', 'qty'],
          properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 }, gift: { type: 'boolean', default: false } },
        },
      },
    },
  }

  it('required, type, enum, minimum, nested objects and arrays answer 422 at their paths; defaults are applied', async () => {
    await setup()
    const workflow = await createWorkflow({
      name: 'orders',
      input: order,
      tasks: [{ id: 'take', component: 'harmonia', action: 'echo', input: { order: '${input}' } }],
    })
    expect((await call('GET', `/api/workflows/${workflow}`)).body.input).toEqual(order)

    const refused = await call('POST', '/api/executions', {
      workflow_id: workflow,
      input: {
        customer: { tier: 'bronze' },
        priority: 'high',
        items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }, { sku: 'c', qty: 0 }, { qty: 'two' }],
      },
    })
    expect(refused.status).toBe(422)
    expect(refused.type).toContain('application/problem+json')
    expect(refused.body.errors.map((e: any) => e.path).sort()).toEqual(
      [
        'input.customer.name',
        'input.customer.tier',
        'input.items[2].qty',
        'input.items[3].qty',
        'input.items[3].sku',
        'input.priority',
      ].sort(),
    )
    const missing = await call('POST', '/api/executions', { workflow_id: workflow, input: {} })
    expect(missing.status).toBe(422)
    expect(missing.body.errors.map((e: any) => e.path).sort()).toEqual(['input.customer', 'input.items'])
    const before = (await call('GET', `/api/executions?workflow_id=${workflow}`)).body.total
    expect(before).toBe(0)

    const accepted = await call('POST', '/api/executions', {
      workflow_id: workflow,
      input: { customer: { name: 'Ada' }, items: [{ sku: 'a', qty: 2 }] },
    })
    expect(accepted.status, accepted.text).toBe(201)
    const expected = { customer: { name: 'Ada', tier: 'silver' }, priority: 3, items: [{ sku: 'a', qty: 2, gift: false }] }
    expect(accepted.body.input).toEqual(expected)
    expect((await finished(accepted.body.execution_id)).task_executions.take.output).toEqual({ order: expected })
  })

  it('a schema naming an unknown type is refused at create with 422 naming where', async () => {
    await setup()
    const bad = await call('POST', '/api/workflows', {
      name: 'bad schema',
      input: { type: 'object', properties: { n: { type: 'int' } } },
      tasks: [{ id: 'a', component: 'harmonia', action: 'noop' }],
    })
    expect(bad.status).toBe(422)
    expect(bad.body.errors.map((e: any) => e.path)).toEqual(['input.properties.n.type'])
  })
})

describe('rerun and signals through the TypeScript client and the CLI', () => {
  beforeAll(async () => {
    harmonia = await createHarmonia({ database: 'memory:store', recover: false })
    server = await startServer({ harmonia, port: 0, hostname: '127.0.0.1', tokens: [], graceMs: 100 })
    call = apiClient(() => server!.url)
  })
  afterAll(shut)

  /** Runs the real binary (node bin/harmonia.js) against the test server. */
  function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((done, fail) => {
      const { HARMONIA_TOKEN: _t, HARMONIA_URL: _u, ...inherited } = process.env
      const child = spawn(process.execPath, [join(ROOT, 'bin/harmonia.js'), ...args], {
        cwd: ROOT,
        env: { ...inherited, HARMONIA_URL: server!.url, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      child.on('error', fail)
      child.on('close', (code) => done({ code, stdout, stderr }))
    })
  }

  it('client.rerunExecution reruns c and its downstream with the input given', async () => {
    const client = getHarmoniaClient({ url: server!.url })
    const source = await finished(await start(await createWorkflow(chain)))
    const rerun = await client.rerunExecution(source.execution_id, { tasks: ['c'], input: { k: 'new' } })
    await expectChainRerun(source.execution_id, rerun)
  })

  it('harmonia executions rerun <id> --task c --input k=v', async () => {
    const source = await finished(await start(await createWorkflow(chain)))
    const result = await cli(['executions', 'rerun', source.execution_id, '--task', 'c', '--input', 'k=new', '--json'])
    expect(result.code, result.stderr).toBe(0)
    const rerun = JSON.parse(result.stdout) as { execution_id: string }
    await expectChainRerun(source.execution_id, rerun)
  })

  it("harmonia executions signal <id> <name> --payload '{...}' delivers the payload to the waiting task", async () => {
    const id = await start(
      await createWorkflow({
        name: 'approve',
        tasks: [{ id: 'w', component: 'harmonia', action: 'wait_for_signal', input: { name: 'ok' } }],
      }),
    )
    await until(async () => ((await call('GET', `/api/executions/${id}/signals`)).body as any[]).some((s) => s.waiting), 'the wait')
    const result = await cli(['executions', 'signal', id, 'ok', '--payload', '{"by":"ada"}'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toBe('signal ok delivered to a waiting task\n')
    expect((await finished(id)).task_executions.w.output).toEqual({ by: 'ada' })
  })
})
