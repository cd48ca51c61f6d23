import { afterEach, expect, it } from 'vitest'
import { SimulatedClock } from 'xstate'
import type { Store } from '../../src/db/store.js'
import { createHarmonia, type Harmonia } from '../../src/harmonia.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { apiClient, type ApiCall } from '../support/api.js'
import { deferred, describeEachStore, testStore, until } from '../support/harness.js'

/**
 * Control flow through the HTTP API (API.md Part 2 "Control flow"): sub-workflows (stored and generated), signals and
 * approvals, durable sleep until an ISO time. A real listening server over an engine on a simulated clock, on every
 * store (memory, PGlite, Postgres). The SIGKILL side is test/recovery/control-flow-crash.test.ts.
 */

const START = Date.parse('2026-01-01T00:00:00Z')
const MISSING = '01890000-0000-7000-8000-000000000000'

let server: RunningServer | undefined
let harmonia: Harmonia | undefined
let clock: SimulatedClock
let call: ApiCall

/** Engine and server on `store`; `recover` only where a test restarts (a block's database holds other tests' executions). */
async function open(store: Store = testStore(), recover = false): Promise<void> {
  harmonia = await createHarmonia({ store, clock, random: () => 0.5, recover })
  server = await startServer({ harmonia, port: 0, hostname: '127.0.0.1', tokens: [], graceMs: 100 })
}

async function shut(): Promise<void> {
  await server?.close()
  await harmonia?.close()
  server = undefined
  harmonia = undefined
}

async function setup(): Promise<void> {
  clock = new SimulatedClock()
  clock.set(START)
  call = apiClient(() => server!.url)
  await open()
}

afterEach(shut)

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
const signals = async (id: string) => (await call('GET', `/api/executions/${id}/signals`)).body as any[]

/** Polls until the execution leaves pending/running/paused; answers it. */
async function finished(id: string): Promise<any> {
  let execution: any
  await until(async () => !['pending', 'running', 'paused'].includes((execution = await get(id)).status), `execution ${id} to finish`)
  return execution
}

async function waitingFor(id: string, name: string): Promise<void> {
  await until(async () => (await signals(id)).some((s) => s.name === name && s.waiting), `${id} to wait for ${name}`)
}

/** The child a parent's task started, once it is linked and running. */
async function childOf(parentId: string, taskId: string): Promise<string> {
  let child = ''
  await until(async () => (child = (await get(parentId)).task_executions[taskId]?.child_execution_id ?? '') !== '', 'the child link')
  await until(async () => (await call('GET', `/api/executions/${child}`)).body?.status === 'running', 'the child to run')
  return child
}

/** A definition carried as data by an upstream echo: `$${` keeps its expressions from being evaluated there. */
const asData = (value: unknown): unknown => JSON.parse(JSON.stringify(value).replaceAll('${', () => '$${'))

const doubler = {
  name: 'doubler',
  input: { n: { type: 'integer', required: true } },
  tasks: [{ id: 'double', component: 'harmonia', action: 'echo', input: { v: '${input.n * 2}' } }],
  output: { v: '${tasks.double.output.v}' },
}

/** A child that waits for `go` and answers with its payload. */
const gated = {
  name: 'gated child',
  tasks: [
    { id: 'gate', component: 'harmonia', action: 'wait_for_signal', input: { name: 'go' } },
    { id: 'then', component: 'harmonia', action: 'echo', input: { got: '${tasks.gate.output}' }, depends_on: ['gate'] },
  ],
  output: { got: '${tasks.then.output.got}' },
}

const parentOf = (input: Record<string, unknown>) => ({
  name: 'parent',
  tasks: [{ id: 'call', component: 'harmonia', action: 'run_workflow', input }],
  output: { result: '${tasks.call.output}' },
})

// One block (one database per store) for all of them: opening databases is what costs time here.
describeEachStore('control flow over HTTP', () => {
  it("the child's output reaches the parent; both links are on the wire; a version is honoured", async () => {
    await setup()
    const sub = await createWorkflow(doubler)
    // Version 2 triples; the parent asks for version 1.
    const updated = await call('PUT', `/api/workflows/${sub}`, {
      ...doubler,
      tasks: [{ id: 'double', component: 'harmonia', action: 'echo', input: { v: '${input.n * 3}' } }],
    })
    expect(updated.body.version).toBe(2)
    const parent = await createWorkflow(parentOf({ workflow_id: sub, version: 1, input: { n: 21 } }))
    const id = await start(parent)
    const done = await finished(id)
    expect(done).toMatchObject({ status: 'completed', output: { result: { v: 42 } }, parent: null })
    const childId = done.task_executions.call.child_execution_id as string
    expect(childId).toMatch(/^[0-9a-f-]{36}$/)
    const kid = await get(childId)
    expect(kid).toMatchObject({
      status: 'completed',
      workflow_id: sub,
      workflow_version: 1,
      input: { n: 21 },
      output: { v: 42 },
      parent: { execution_id: id, task_id: 'call' },
    })
    // The latest version when none is named.
    const latest = await finished(await start(await createWorkflow(parentOf({ workflow_id: sub, input: { n: 2 } }))))
    expect(latest.output).toEqual({ result: { v: 6 } })
  })

  it("a child failure fails the parent's task and the parent; an unknown workflow fails with workflow_not_found", async () => {
    await setup()
    const failing = await createWorkflow({
      name: 'bad child',
      tasks: [{ id: 'x', component: 'harmonia', action: 'fail', input: { message: 'child broke', retryable: false } }],
    })
    const done = await finished(await start(await createWorkflow(parentOf({ workflow_id: failing }))))
    expect(done.status).toBe('failed')
    expect(done.task_executions.call).toMatchObject({
      status: 'failed',
      error: { message: expect.stringContaining('child broke'), retryable: false },
    })
    expect((await get(done.task_executions.call.child_execution_id)).status).toBe('failed')

    const lost = await finished(await start(await createWorkflow(parentOf({ workflow_id: MISSING }))))
    expect(lost.task_executions.call).toMatchObject({ status: 'failed', error: { code: 'workflow_not_found' } })
  })

  it('a child that cannot start (input refused by its workflow, a template source) fails the task for good, linking nothing', async () => {
    await setup()
    const sub = await createWorkflow(doubler)
    const template = await createWorkflow({
      name: 'template source',
      tasks: [{ id: 'a', component: 'harmonia', action: 'echo', input: { v: '${params.v}' } }],
    })
    const parent = await createWorkflow({
      name: 'bad calls',
      tasks: [
        { id: 'wrong', component: 'harmonia', action: 'run_workflow', input: { workflow_id: sub, input: { n: 'six' } }, retry: 3 },
        { id: 'none', component: 'harmonia', action: 'run_workflow', input: { workflow_id: sub } },
        { id: 'tpl', component: 'harmonia', action: 'run_workflow', input: { workflow_id: template } },
      ],
    })
    const done = await finished(await start(parent))
    expect(done.task_executions.wrong).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'invalid_input', retryable: false, message: expect.stringContaining('input.n must be an integer') },
    })
    expect(done.task_executions.none).toMatchObject({
      status: 'failed',
      error: { code: 'invalid_input', message: expect.stringContaining('input.n') },
    })
    expect(done.task_executions.tpl).toMatchObject({
      status: 'failed',
      error: { code: 'invalid_input', message: expect.stringContaining('params') },
    })
    for (const t of ['wrong', 'none', 'tpl']) expect(done.task_executions[t].child_execution_id ?? null, t).toBe(null)
    expect((await call('GET', `/api/executions?workflow_id=${sub}`)).body.total).toBe(0)
  })

  it('pausing the parent pauses the running child, resuming resumes it; the signalled child completes the parent', async () => {
    await setup()
    const id = await start(await createWorkflow(parentOf({ workflow_id: await createWorkflow(gated) })))
    const child = await childOf(id, 'call')
    const paused = await call('POST', `/api/executions/${id}/pause`)
    expect(paused.status).toBe(202)
    expect(paused.body.status).toBe('paused')
    expect((await get(child)).status).toBe('paused')
    expect((await call('POST', `/api/executions/${id}/resume`)).status).toBe(202)
    expect((await get(child)).status).toBe('running')
    await waitingFor(child, 'go')
    const sent = await call('POST', `/api/executions/${child}/signals/go`, { payload: { ok: 1 } })
    expect(sent.status).toBe(202)
    const done = await finished(id)
    expect(done).toMatchObject({ status: 'completed', output: { result: { got: { ok: 1 } } } })
  })

  it('a pause that lands between the child link and the child start still pauses the child', async () => {
    clock = new SimulatedClock()
    clock.set(START)
    call = apiClient(() => server!.url)
    // The commit that records the child link waits for the test: the pause arrives while the child does not exist yet.
    // The link may ride on the parent's creating commit (its task can start the child within the same tick), and the
    // POST answers only after that commit: the parent's id comes from the held commit, not from the POST's answer.
    const inner = testStore()
    const linkReached = deferred<string>()
    const release = deferred()
    let held = false
    await open({
      ...inner,
      async commit(batch) {
        const link = held ? undefined : batch.tasks.find((t) => t.row.child_execution_id)
        if (link) {
          held = true
          linkReached.resolve(link.execution_id)
          await release.promise
        }
        await inner.commit(batch)
      },
    })
    const starting = start(await createWorkflow(parentOf({ workflow_id: await createWorkflow(gated) })))
    const id = await linkReached.promise
    const pausing = call('POST', `/api/executions/${id}/pause`)
    await new Promise((r) => setTimeout(r, 20))
    release.resolve()
    expect(await starting).toBe(id)
    expect((await pausing).body.status).toBe('paused')
    const child = (await get(id)).task_executions.call.child_execution_id as string
    await until(async () => (await call('GET', `/api/executions/${child}`)).status === 200, 'the child to exist')
    await until(async () => (await get(child)).status === 'paused', 'the child to be paused')
    expect((await get(id)).status).toBe('paused')
    expect((await call('POST', `/api/executions/${id}/resume`)).status).toBe(202)
    expect((await get(child)).status).toBe('running')
    await waitingFor(child, 'go')
    await call('POST', `/api/executions/${child}/signals/go`, { payload: 'late' })
    expect(await finished(id)).toMatchObject({ status: 'completed', output: { result: { got: 'late' } } })
  })

  it('a pause that lands before the child is even linked (a generated definition being stored) pauses the child', async () => {
    clock = new SimulatedClock()
    clock.set(START)
    call = apiClient(() => server!.url)
    // Storing the generated workflow waits for the test: the pause arrives while the task runs but has no child yet.
    const inner = testStore()
    const reached = deferred()
    const release = deferred()
    await open({
      ...inner,
      workflows: {
        ...inner.workflows,
        async insert(record) {
          if (record.definition.name === 'generated gated') {
            reached.resolve()
            await release.promise
          }
          await inner.workflows.insert(record)
        },
      },
    })
    const id = await start(
      await createWorkflow({
        name: 'generator',
        tasks: [
          { id: 'plan', component: 'harmonia', action: 'echo', input: { definition: asData({ ...gated, name: 'generated gated' }) } },
          {
            id: 'call',
            component: 'harmonia',
            action: 'run_workflow',
            input: { definition: '${tasks.plan.output.definition}' },
            depends_on: ['plan'],
          },
        ],
        output: { result: '${tasks.call.output}' },
      }),
    )
    await reached.promise
    expect((await call('POST', `/api/executions/${id}/pause`)).body.status).toBe('paused')
    release.resolve()
    let child = ''
    await until(async () => (child = (await get(id)).task_executions.call.child_execution_id ?? '') !== '', 'the child link')
    await until(async () => (await call('GET', `/api/executions/${child}`)).status === 200, 'the child to exist')
    await until(async () => (await get(child)).status === 'paused', 'the child to be paused', 3_000)
    expect((await call('POST', `/api/executions/${id}/resume`)).status).toBe(202)
    expect((await get(child)).status).toBe('running')
    await waitingFor(child, 'go')
    await call('POST', `/api/executions/${child}/signals/go`, { payload: 'on' })
    expect(await finished(id)).toMatchObject({ status: 'completed', output: { result: { got: 'on' } } })
  })

  it('canceling the parent cancels the running child', async () => {
    await setup()
    const id = await start(await createWorkflow(parentOf({ workflow_id: await createWorkflow(gated) })))
    const child = await childOf(id, 'call')
    const canceled = await call('POST', `/api/executions/${id}/cancel`)
    expect(canceled.status).toBe(202)
    expect((await finished(child)).status).toBe('canceled')
    expect((await finished(id)).status).toBe('canceled')
  })

  it('a definition generated by an upstream task runs; an invalid one fails with invalid_definition naming the paths', async () => {
    await setup()
    const parent = await createWorkflow({
      name: 'generator',
      tasks: [
        { id: 'plan', component: 'harmonia', action: 'echo', input: { definition: asData(doubler) } },
        {
          id: 'generated',
          component: 'harmonia',
          action: 'run_workflow',
          input: { definition: '${tasks.plan.output.definition}', input: { n: 5 } },
          depends_on: ['plan'],
        },
        {
          id: 'broken_plan',
          component: 'harmonia',
          action: 'echo',
          input: { definition: { name: 'broken', tasks: [{ id: 'a', component: 'harmonia', action: 'noop', depends_on: ['nowhere'] }] } },
        },
        {
          id: 'invalid',
          component: 'harmonia',
          action: 'run_workflow',
          input: { definition: '${tasks.broken_plan.output.definition}' },
          depends_on: ['broken_plan'],
        },
      ],
    })
    const done = await finished(await start(parent))
    expect(done.task_executions.generated).toMatchObject({ status: 'completed', output: { v: 10 } })
    const generatedChild = await get(done.task_executions.generated.child_execution_id)
    expect(generatedChild).toMatchObject({ status: 'completed', input: { n: 5 }, parent: { task_id: 'generated' } })
    expect(done.task_executions.invalid).toMatchObject({
      status: 'failed',
      error: { code: 'invalid_definition', retryable: false, message: expect.stringContaining('definition.tasks[0].depends_on[0]') },
    })
    expect(done.task_executions.invalid.child_execution_id ?? null).toBe(null)
  })

  const approval = (extra: Record<string, unknown> = {}) => ({
    name: 'approval',
    tasks: [
      { id: 'approve', component: 'harmonia', action: 'wait_for_signal', input: { name: 'approved', ...extra } },
      { id: 'after', component: 'harmonia', action: 'echo', input: { by: '${tasks.approve.output.by}' }, depends_on: ['approve'] },
    ],
  })

  it('a signal sent before the wait is kept (delivered false) and consumed by the wait; a second one waits for the next wait', async () => {
    await setup()
    const workflow = await createWorkflow({
      name: 'late waits',
      tasks: [
        // Sleeps until absolute times: a clock moved before a handler arms its timer cannot make it miss the time.
        { id: 'first', component: 'harmonia', action: 'sleep', input: { until: '2026-01-01T00:00:10Z' } },
        { id: 'w1', component: 'harmonia', action: 'wait_for_signal', input: { name: 'go' }, depends_on: ['first'] },
        { id: 'mid', component: 'harmonia', action: 'sleep', input: { until: '2026-01-01T00:00:20Z' }, depends_on: ['w1'] },
        { id: 'w2', component: 'harmonia', action: 'wait_for_signal', input: { name: 'go' }, depends_on: ['mid'] },
      ],
    })
    const id = await start(workflow)
    await until(async () => (await get(id)).task_executions.first.status === 'running', 'the first sleep')
    const early = await call('POST', `/api/executions/${id}/signals/go`, { payload: { n: 1 } })
    expect(early.status).toBe(202)
    expect(early.body).toEqual({ execution_id: id, name: 'go', delivered: false })
    expect((await call('POST', `/api/executions/${id}/signals/go`, { payload: { n: 2 } })).body.delivered).toBe(false)
    expect(await signals(id)).toEqual([{ name: 'go', waiting: false, received: [{ n: 1 }, { n: 2 }] }])

    clock.increment(10_000)
    await until(async () => (await get(id)).task_executions.mid.status === 'running', 'w1 done, the second sleep')
    const mid = await get(id)
    expect(mid.task_executions.w1).toMatchObject({ status: 'completed', output: { n: 1 } })
    expect(mid.task_executions.w2.status).toBe('pending')
    clock.increment(10_000)
    const done = await finished(id)
    expect(done.task_executions.w2).toMatchObject({ status: 'completed', output: { n: 2 } })
    // A third one has no wait left to take it, and the execution is finished: 409.
    expect((await call('POST', `/api/executions/${id}/signals/go`, { payload: 3 })).status).toBe(409)
    const events = (await call('GET', `/api/executions/${id}/history`)).body.events as any[]
    expect(events.filter((e) => e.type === 'signal_received').map((e) => e.data.name)).toEqual(['go', 'go'])
  })

  it('an approval: GET signals says waiting; the signal is delivered at once; its payload is the output; shape kept after', async () => {
    await setup()
    const id = await start(await createWorkflow(approval()))
    await waitingFor(id, 'approved')
    expect(await signals(id)).toEqual([{ name: 'approved', waiting: true, received: [] }])
    expect((await get(id)).task_executions.approve.status).toBe('running')
    const sent = await call('POST', `/api/executions/${id}/signals/approved`, { payload: { by: 'ada' } })
    expect(sent).toMatchObject({ status: 202, body: { execution_id: id, name: 'approved', delivered: true } })
    const done = await finished(id)
    expect(done.status).toBe('completed')
    expect(done.task_executions.approve.output).toEqual({ by: 'ada' })
    expect(done.task_executions.after.output).toEqual({ by: 'ada' })
    expect(await signals(id)).toEqual([{ name: 'approved', waiting: false, received: [{ by: 'ada' }] }])
    // A signal without a body: payload null.
    const second = await start(await createWorkflow({ ...approval(), name: 'bare' }))
    await waitingFor(second, 'approved')
    expect((await call('POST', `/api/executions/${second}/signals/approved`)).body.delivered).toBe(true)
    expect((await finished(second)).task_executions.approve.output).toBe(null)
  })

  it('a timeout fails the wait with signal_timeout, on the simulated clock', async () => {
    await setup()
    const id = await start(await createWorkflow(approval({ timeout: 60 })))
    await waitingFor(id, 'approved')
    clock.increment(59_000)
    await harmonia!.flush()
    expect((await get(id)).task_executions.approve.status).toBe('running')
    clock.increment(1_000)
    const done = await finished(id)
    expect(done.status).toBe('failed')
    expect(done.task_executions.approve).toMatchObject({ status: 'failed', error: { code: 'signal_timeout', retryable: false } })
    expect(done.task_executions.after.status).toBe('skipped')
  })

  it('the timeout of a wait is durable: across a restart it runs out with the time that remained', async () => {
    await setup()
    const store = testStore()
    await shut()
    await open(store)
    const id = await start(await createWorkflow(approval({ timeout: 60 })))
    await waitingFor(id, 'approved')
    clock.increment(30_000)
    await harmonia!.flush()
    await shut()
    await open(store, true)
    await waitingFor(id, 'approved')
    clock.increment(29_000)
    await harmonia!.flush()
    expect((await get(id)).task_executions.approve.status).toBe('running')
    clock.increment(1_000)
    const done = await finished(id)
    expect(done.task_executions.approve).toMatchObject({ status: 'failed', error: { code: 'signal_timeout' } })
    expect(Date.parse(done.task_executions.approve.end_time) - START).toBe(60_000)
  })

  it('404 problem for an unknown execution (send and list), 409 for a finished one, 422 for a bad name or body', async () => {
    await setup()
    for (const [method, path] of [
      ['POST', `/api/executions/${MISSING}/signals/x`],
      ['GET', `/api/executions/${MISSING}/signals`],
    ] as const) {
      const answer = await call(method, path, method === 'POST' ? {} : undefined)
      expect(answer.status, `${method} ${path}`).toBe(404)
      expect(answer.type).toContain('application/problem+json')
    }
    const done = await finished(
      await start(await createWorkflow({ name: 'quick', tasks: [{ id: 'a', component: 'harmonia', action: 'noop' }] })),
    )
    const late = await call('POST', `/api/executions/${done.execution_id}/signals/x`, { payload: 1 })
    expect(late.status).toBe(409)
    expect(late.type).toContain('application/problem+json')
    expect(await signals(done.execution_id)).toEqual([])

    const live = await start(await createWorkflow(approval()))
    await waitingFor(live, 'approved')
    const badBody = await call('POST', `/api/executions/${live}/signals/approved`, [1, 2])
    expect(badBody.status).toBe(422)
    const badName = await call('POST', `/api/executions/${live}/signals/${encodeURIComponent('has space')}`, {})
    expect(badName.status).toBe(422)
    expect(badName.body.errors[0].path).toBe('name')
    expect((await get(live)).task_executions.approve.status).toBe('running')
  })

  it('sleeps until the time on the simulated clock, across a restart of the engine and server', async () => {
    await setup()
    const store = testStore()
    await shut()
    await open(store)
    const id = await start(
      await createWorkflow({
        name: 'until',
        tasks: [{ id: 'nap', component: 'harmonia', action: 'sleep', input: { until: '2026-01-01T00:05:00Z' } }],
        output: { until: '${tasks.nap.output.until}' },
      }),
    )
    await until(async () => (await get(id)).task_executions.nap.status === 'running', 'the nap')
    await harmonia!.flush()
    await shut()

    clock.increment(120_000)
    await open(store, true)
    expect((await get(id)).status).toBe('running')
    clock.increment(179_000)
    await harmonia!.flush()
    expect((await get(id)).status).toBe('running')
    clock.increment(1_000)
    const done = await finished(id)
    expect(done).toMatchObject({ status: 'completed', output: { until: '2026-01-01T00:05:00Z' } })
    expect(Date.parse(done.end_time)).toBe(Date.parse('2026-01-01T00:05:00Z'))
  })

  it('a time already past does not wait; a malformed one fails the task with invalid_input', async () => {
    await setup()
    const done = await finished(
      await start(
        await createWorkflow({
          name: 'past',
          tasks: [
            { id: 'past', component: 'harmonia', action: 'sleep', input: { until: '2025-06-01T00:00:00Z' } },
            { id: 'bad', component: 'harmonia', action: 'sleep', input: { until: 'next tuesday' } },
          ],
        }),
      ),
    )
    expect(done.task_executions.past).toMatchObject({ status: 'completed', output: { until: '2025-06-01T00:00:00Z' } })
    expect(done.task_executions.bad).toMatchObject({ status: 'failed', error: { code: 'invalid_input' } })
  })
})
