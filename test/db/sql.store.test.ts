import { newTaskExecution } from '../../src/actors/projection.js'
import { sql } from 'drizzle-orm'
import { beforeEach, expect, it } from 'vitest'
import { createSqlStore } from '../../src/db/sql.store.js'
import type { CheckpointRecord, CommitBatch, NewExecution, Store, TaskRow, WorkflowRecord } from '../../src/db/store.js'
import { StaleWriteError } from '../../src/errors.js'
import type { WorkflowDefinition } from '../../src/model/definition.js'
import type { ExecutionEvent } from '../../src/model/events.js'
import { uuidv7 } from '../../src/model/ids.js'
import type { Execution } from '../../src/model/resources.js'
import type { ExecutionStatus } from '../../src/model/status.js'
import { countRows, describeEachDriver, rows, truncateAll } from '../support/db.js'

const T0 = Date.parse('2026-01-01T00:00:00.000Z')
const at = (ms: number) => new Date(T0 + ms).toISOString()

function definition(name: string, taskIds: string[]): WorkflowDefinition {
  return {
    name,
    description: '',
    metadata: {},
    input: {},
    output: {},
    tasks: taskIds.map((id) => ({ id, component: 'harmonia', action: 'noop', input: {}, depends_on: [], metadata: {} })),
    max_concurrency: 10,
    fail_fast: false,
  }
}

const newTask = newTaskExecution

function execution(workflow: WorkflowRecord, overrides: Partial<Execution> = {}): Execution {
  return {
    execution_id: uuidv7(),
    workflow_id: workflow.workflowId,
    workflow_version: workflow.version,
    status: 'pending',
    start_time: null,
    end_time: null,
    input: { n: 1 },
    output: null,
    error: null,
    metadata: {},
    restored_from: null,
    rerun_of: null,
    parent: null,
    task_executions: Object.fromEntries(workflow.definition.tasks.map((t) => [t.id, newTask(t.id)])),
    ...overrides,
  }
}

let ticks = 0
/** What `create` takes besides the execution; `created_at` from a test clock that moves 1 ms a call. */
const initOf = (fields: Partial<Omit<NewExecution, 'execution'>> = {}): Omit<NewExecution, 'execution'> => ({
  owner: 'n',
  epoch: 1,
  timers: [],
  state: {},
  created_at: at(++ticks),
  ...fields,
})

const emptyBatch = (): CommitBatch => ({ creates: [], executions: [], tasks: [], events: [], timersSet: [], timersCleared: [], states: [] })

const patchOf = (e: Execution, status: ExecutionStatus, last_seq = 0, fields: Partial<Execution> = {}) => ({
  status,
  start_time: fields.start_time ?? e.start_time,
  end_time: fields.end_time ?? e.end_time,
  output: fields.output ?? e.output,
  error: fields.error ?? e.error,
  last_seq,
})

const event = (
  executionId: string,
  seq: number,
  type: ExecutionEvent['type'],
  taskId?: string,
  data: Record<string, unknown> = {},
): ExecutionEvent => ({
  seq,
  type,
  execution_id: executionId,
  ...(taskId === undefined ? {} : { task_id: taskId }),
  timestamp: at(seq),
  data,
})

/** JSON values that must come back exactly, on every jsonb column. */
const JSON_VALUES: unknown[] = [
  'hello',
  '123',
  'true',
  'null',
  '[1]',
  '{"a":1}',
  '',
  'quote " backslash \\ percent % é 😀',
  0,
  -1.5,
  true,
  false,
  null,
  [],
  [1, 'a', null, { b: [true] }],
  {},
  { nested: { deeper: [{ c: 'x', n: null, s: '42' }] }, 'key with space': 1 },
]

describeEachDriver('SQL store', ({ driver, db }) => {
  let store: Store
  let wf: WorkflowRecord

  beforeEach(async () => {
    await truncateAll(db().db)
    store = createSqlStore({ ...db(), close: async () => {} })
    wf = { workflowId: uuidv7(), version: 1, definition: definition('Main', ['b', 'a', 'c']), createdAt: at(0), updatedAt: at(0) }
    await store.workflows.insert(wf)
  })

  const table = (name: string, executionId?: string) => countRows(db().db, name, executionId)

  /** Creates an execution of `wf` owned by `node` at epoch 1. */
  async function created(overrides: Partial<Execution> = {}, init: Partial<Omit<NewExecution, 'execution'>> = {}) {
    const e = execution(wf, overrides)
    await store.executions.create(e, initOf({ owner: 'node-a', ...init }))
    return e
  }

  it('says which driver it runs on', () => {
    expect(store.kind).toBe(driver.name)
  })

  // --- workflows --------------------------------------------------------------------------------------------------

  it('workflows: versions, latest, list with a case-insensitive escaped filter, delete with versions', async () => {
    expect(await store.workflows.latest(wf.workflowId)).toEqual(wf)
    const v2: WorkflowRecord = { ...wf, version: 2, definition: definition('Main renamed', ['x']), updatedAt: at(5_000) }
    await store.workflows.insert(v2)
    expect(await store.workflows.latest(wf.workflowId)).toEqual(v2)
    expect(await store.workflows.version(wf.workflowId, 1)).toEqual(wf)
    expect(await store.workflows.version(wf.workflowId, 2)).toEqual(v2)
    expect(await store.workflows.version(wf.workflowId, 3)).toBeUndefined()
    expect(await store.workflows.latest(uuidv7())).toBeUndefined()
    expect(await store.workflows.latest('not-a-uuid')).toBeUndefined()

    const other: WorkflowRecord = {
      workflowId: uuidv7(),
      version: 1,
      definition: definition('100% Other_thing', ['t']),
      createdAt: at(1),
      updatedAt: at(1),
    }
    const third: WorkflowRecord = {
      workflowId: uuidv7(),
      version: 1,
      definition: definition('100 percent', ['t']),
      createdAt: at(2),
      updatedAt: at(2),
    }
    await store.workflows.insert(other)
    await store.workflows.insert(third)

    const all = await store.workflows.list({ limit: 10, offset: 0 })
    expect(all.total).toBe(3)
    // Oldest first, each at its latest version.
    expect(all.items).toEqual([v2, other, third])
    expect(await store.workflows.list({ limit: 1, offset: 1 })).toEqual({ items: [other], total: 3 })
    expect((await store.workflows.list({ limit: 10, offset: 0, filter: 'RENAMED' })).items).toEqual([v2])
    // % and _ are literal characters of the filter, not wildcards.
    expect((await store.workflows.list({ limit: 10, offset: 0, filter: '0%' })).items).toEqual([other])
    expect((await store.workflows.list({ limit: 10, offset: 0, filter: 'r_t' })).items).toEqual([other])
    expect(await store.workflows.list({ limit: 10, offset: 0, filter: 'nothing' })).toEqual({ items: [], total: 0 })

    expect(await table('workflow_versions')).toBe(4)
    expect(await store.workflows.delete(wf.workflowId)).toBe(true)
    expect(await store.workflows.delete(wf.workflowId)).toBe(false)
    expect(await store.workflows.latest(wf.workflowId)).toBeUndefined()
    expect(await store.workflows.version(wf.workflowId, 1)).toBeUndefined()
    expect(await table('workflow_versions')).toBe(2)
    expect(await table('workflows')).toBe(2)
  })

  it('workflows: a late insert of an older version does not hide the latest', async () => {
    await store.workflows.insert({ ...wf, version: 3, updatedAt: at(3) })
    await store.workflows.insert({ ...wf, version: 2, updatedAt: at(2) })
    expect((await store.workflows.latest(wf.workflowId))?.version).toBe(3)
  })

  // --- templates --------------------------------------------------------------------------------------------------

  it('templates: insert, get, list with filter', async () => {
    const t1 = {
      template_id: uuidv7(),
      name: 'Nightly ETL',
      description: 'loads',
      workflow_definition_id: wf.workflowId,
      parameters: { day: { type: 'string' }, list: ['a', 1] },
      version: 1,
      workflow_version: 1,
      created_at: at(10),
    }
    const t2 = { ...t1, template_id: uuidv7(), name: 'Hourly', created_at: at(20) }
    await store.templates.insert(t1)
    await store.templates.insert(t2)
    expect(await store.templates.get(t1.template_id)).toEqual(t1)
    expect(await store.templates.get(uuidv7())).toBeUndefined()
    // A second version becomes the latest; the first stays readable by its number; the list shows the latest.
    const t1v2 = { ...t1, version: 2, name: 'Nightly ETL v2', created_at: at(30) }
    await store.templates.insert(t1v2)
    expect(await store.templates.get(t1.template_id)).toEqual({ ...t1v2, created_at: t1.created_at })
    expect(await store.templates.get(t1.template_id, 1)).toEqual(t1)
    expect(await store.templates.get(t1.template_id, 2)).toEqual(t1v2)
    expect(await store.templates.get(t1.template_id, 3)).toBeUndefined()
    await store.templates.insert({ ...t1, version: 2 }).catch(() => undefined)
    expect(await store.templates.delete(t2.template_id)).toBe(true)
    expect(await store.templates.get(t2.template_id)).toBeUndefined()
    await store.templates.insert(t2)
    const latest1 = { ...t1v2, created_at: t1.created_at }
    expect(await store.templates.list({ limit: 10, offset: 0 })).toEqual({ items: [latest1, t2], total: 2 })
    expect(await store.templates.list({ limit: 10, offset: 0, filter: 'etl' })).toEqual({ items: [latest1], total: 1 })
    expect(await store.templates.list({ limit: 1, offset: 1 })).toEqual({ items: [t2], total: 2 })
  })

  // --- executions -------------------------------------------------------------------------------------------------

  it('create writes the row, task rows in definition order, timers and state; get returns the wire execution', async () => {
    const e = await created(
      { metadata: { customer: 'ACME' } },
      { timers: [{ execution_id: '', key: 'timeout', due_at: at(60_000) }], state: { counter: 1 } },
    )
    const got = await store.executions.get(e.execution_id)
    expect(got).toStrictEqual(e)
    expect(Object.keys(got!.task_executions)).toEqual(['b', 'a', 'c'])
    expect(Object.keys(got!.task_executions.a!)).toEqual([
      'task_id',
      'status',
      'start_time',
      'end_time',
      'input',
      'output',
      'error',
      'retries',
      'attempts',
    ])

    const [row] = rows<{ owner: string; epoch: number; last_seq: number; lease: boolean }>(
      await db().db.execute(
        sql`SELECT owner, epoch, last_seq, lease_expires_at > now() AS lease FROM executions WHERE execution_id = ${e.execution_id}::uuid`,
      ),
    )
    expect(row).toEqual({ owner: 'node-a', epoch: 1, last_seq: 0, lease: true })
    expect(await table('task_executions', e.execution_id)).toBe(3)
    // The timer row belongs to the execution whatever execution_id the caller left in it.
    const timerRows = rows(await db().db.execute(sql`SELECT execution_id, key FROM timers`))
    expect(timerRows).toEqual([{ execution_id: e.execution_id, key: 'timeout' }])
    const state = await store.state.get(e.execution_id)
    expect(state).toMatchObject({ execution_id: e.execution_id, state: { counter: 1 } })
    expect(state!.updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)

    const bare = await created()
    expect(await store.state.get(bare.execution_id)).toBeUndefined()
    expect(await store.executions.get(uuidv7())).toBeUndefined()
    expect(await store.executions.get('nope')).toBeUndefined()
  })

  it('a new execution is stamped with its created_at (the engine clock), by create and by commit alike', async () => {
    const stampedAt = async (executionId: string, stamp: string) => {
      const [row] = rows<{ ok: boolean }>(
        await db().db.execute(
          sql`SELECT created_at = ${stamp}::timestamptz AS ok FROM executions WHERE execution_id = ${executionId}::uuid`,
        ),
      )
      return row?.ok
    }
    const early = '2001-02-03T04:05:06.789Z'
    const e1 = await created({}, { created_at: early, state: { a: 1 } })
    expect(await stampedAt(e1.execution_id, early)).toBe(true)
    expect(await store.state.get(e1.execution_id)).toStrictEqual({ execution_id: e1.execution_id, state: { a: 1 }, updated_at: early })

    const late = '2099-12-31T23:59:59.999Z'
    const e2 = execution(wf)
    await store.commit({ ...emptyBatch(), creates: [{ execution: e2, ...initOf({ created_at: late, state: { b: 2 } }) }] })
    expect(await stampedAt(e2.execution_id, late)).toBe(true)
    expect((await store.state.get(e2.execution_id))?.updated_at).toBe(late)
    // List order follows created_at, whatever the order of the inserts.
    const listed = await store.executions.list({ limit: 10, offset: 0 })
    expect(listed.items.map((e) => e.execution_id)).toEqual([e2.execution_id, e1.execution_id])
  })

  it('create is one transaction: a failure leaves nothing behind', async () => {
    const e = execution(wf)
    // The timer is written after the execution and task rows, and its time is invalid: everything rolls back.
    await expect(
      store.executions.create(e, initOf({ timers: [{ execution_id: e.execution_id, key: 'k', due_at: 'not a time' }], state: { a: 1 } })),
    ).rejects.toThrow()
    expect(await store.executions.get(e.execution_id)).toBeUndefined()
    expect(await table('executions')).toBe(0)
    expect(await table('task_executions')).toBe(0)
    expect(await table('execution_state')).toBe(0)
  })

  it('create and get 10,000 tasks (chunked statements), in definition order', async () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `task-${(10_000 - i).toString().padStart(5, '0')}`)
    const big: WorkflowRecord = { workflowId: uuidv7(), version: 1, definition: definition('big', ids), createdAt: at(0), updatedAt: at(0) }
    await store.workflows.insert(big)
    const e = execution(big)
    const t0 = performance.now()
    await store.executions.create(e, initOf())
    const createMs = performance.now() - t0
    expect(await table('task_executions', e.execution_id)).toBe(10_000)
    const got = await store.executions.get(e.execution_id)
    expect(Object.keys(got!.task_executions)).toEqual(ids)
    expect(got).toStrictEqual(e)
    console.log(`[${driver.name}] create of a 10,000-task execution: ${createMs.toFixed(0)} ms`)
  })

  it('list: newest first, filters by status, workflow, id or metadata text, without task_executions', async () => {
    const e1 = await created({ metadata: { customer: 'ACME corp' } })
    const e2 = await created({ status: 'running', metadata: { ticket: '50%_off' } })
    const otherWf: WorkflowRecord = {
      workflowId: uuidv7(),
      version: 1,
      definition: definition('other', ['t']),
      createdAt: at(0),
      updatedAt: at(0),
    }
    await store.workflows.insert(otherWf)
    const e3 = execution(otherWf, { status: 'running' })
    await store.executions.create(e3, initOf())

    const summary = (e: Execution) => ({ ...e, task_executions: {} })
    const all = await store.executions.list({ limit: 10, offset: 0 })
    expect(all).toStrictEqual({ items: [summary(e3), summary(e2), summary(e1)], total: 3 })
    expect(await store.executions.list({ limit: 1, offset: 1 })).toStrictEqual({ items: [summary(e2)], total: 3 })
    const ids = async (query: Omit<Parameters<Store['executions']['list']>[0], 'limit' | 'offset'>) =>
      (await store.executions.list({ limit: 10, offset: 0, ...query })).items.map((e) => e.execution_id)
    expect(await ids({ status: 'running' })).toEqual([e3.execution_id, e2.execution_id])
    expect(await ids({ workflow_id: wf.workflowId })).toEqual([e2.execution_id, e1.execution_id])
    expect(await ids({ workflow_id: wf.workflowId, status: 'pending' })).toEqual([e1.execution_id])
    expect(await ids({ filter: 'acme' })).toEqual([e1.execution_id])
    expect(await ids({ filter: '50%_' })).toEqual([e2.execution_id])
    expect(await ids({ filter: '5_%' })).toEqual([])
    // A piece of the id, in any case.
    expect(await ids({ filter: e2.execution_id.slice(-12).toUpperCase() })).toEqual([e2.execution_id])
    expect(await ids({ workflow_id: 'not-a-uuid' })).toEqual([])
  })

  it('countActive counts the non-terminal executions of a workflow', async () => {
    await created({ status: 'running' })
    await created({ status: 'paused' })
    await created({ status: 'completed', end_time: at(1) })
    await created({ status: 'canceled', end_time: at(1) })
    expect(await store.executions.countActive(wf.workflowId)).toBe(2)
    expect(await store.executions.countActive(uuidv7())).toBe(0)
  })

  // --- commit -----------------------------------------------------------------------------------------------------

  it('commit writes execution patches, task rows, events, timers and state in one go', async () => {
    const e1 = await created()
    const e2 = await created()
    const taskRow = (id: string, fields: Partial<TaskRow>): TaskRow => ({ ...newTask(id), snapshot: null, skip: null, ...fields })
    const batch: CommitBatch = {
      creates: [],
      executions: [
        { execution_id: e1.execution_id, epoch: 1, patch: patchOf(e1, 'running', 3, { start_time: at(1) }) },
        {
          execution_id: e2.execution_id,
          epoch: 1,
          patch: patchOf(e2, 'completed', 1, { start_time: at(1), end_time: at(9), output: 'done' }),
        },
      ],
      tasks: [
        { execution_id: e1.execution_id, row: taskRow('a', { status: 'running', start_time: at(2), attempts: 1, input: { x: 1 } }) },
        {
          execution_id: e1.execution_id,
          row: taskRow('b', {
            status: 'retrying',
            attempts: 2,
            retries: 1,
            error: { message: 'boom', code: 'E1', retryable: true },
            snapshot: { status: 'active', value: 'waiting', context: { attempt: 2 } },
          }),
        },
        { execution_id: e2.execution_id, row: taskRow('c', { status: 'skipped', skip: 'condition', end_time: at(3) }) },
      ],
      events: [
        event(e1.execution_id, 1, 'workflow_started'),
        event(e1.execution_id, 2, 'task_started', 'a', { attempt: 1 }),
        event(e1.execution_id, 3, 'task_retrying', 'b', { delay_ms: 1000 }),
        event(e2.execution_id, 1, 'workflow_completed', undefined, { output: 'done' }),
      ],
      timersSet: [{ execution_id: e1.execution_id, key: 'retry:b', due_at: at(1_000) }],
      timersCleared: [],
      states: [{ execution_id: e1.execution_id, state: { saved: true }, updated_at: at(4) }],
    }
    await store.commit(batch)

    const got1 = await store.executions.get(e1.execution_id)
    expect(got1).toMatchObject({ status: 'running', start_time: at(1), end_time: null })
    expect(got1!.task_executions.a).toStrictEqual({ ...newTask('a'), status: 'running', start_time: at(2), attempts: 1, input: { x: 1 } })
    expect(got1!.task_executions.b).toStrictEqual({
      ...newTask('b'),
      status: 'retrying',
      attempts: 2,
      retries: 1,
      error: { message: 'boom', code: 'E1', retryable: true },
    })
    expect(Object.keys(got1!.task_executions)).toEqual(['b', 'a', 'c'])
    // Each execution reads its own task rows (e2's `c` changed, not e1's).
    expect(got1!.task_executions.c).toStrictEqual(newTask('c'))
    expect(await store.executions.get(e2.execution_id)).toMatchObject({ status: 'completed', end_time: at(9), output: 'done' })

    expect(await store.events.list(e1.execution_id)).toStrictEqual(batch.events.slice(0, 3))
    expect(await store.events.list(e1.execution_id, 1)).toStrictEqual(batch.events.slice(1, 3))
    expect(await store.events.list(e2.execution_id)).toStrictEqual(batch.events.slice(3))
    expect(await store.state.get(e1.execution_id)).toStrictEqual(batch.states[0])
    const [last] = rows<{ last_seq: number }>(
      await db().db.execute(sql`SELECT last_seq FROM executions WHERE execution_id = ${e1.execution_id}::uuid`),
    )
    expect(last!.last_seq).toBe(3)

    // What recovery sees: snapshot and skip are kept.
    const claimed = await store.executions.claimRecoverable('node-b')
    expect(claimed.map((r) => r.execution.execution_id)).toEqual([e1.execution_id])
    expect(claimed[0]!.tasks.find((t) => t.task_id === 'b')!.snapshot).toEqual({
      status: 'active',
      value: 'waiting',
      context: { attempt: 2 },
    })
    expect(claimed[0]!.timers).toEqual(batch.timersSet)

    // Then: clear the timer, move the timer of another key, save state again.
    await store.commit({
      ...emptyBatch(),
      executions: [{ execution_id: e1.execution_id, epoch: 2, patch: patchOf(e1, 'running', 3, { start_time: at(1) }) }],
      timersSet: [
        { execution_id: e1.execution_id, key: 'sleep:a', due_at: at(5_000) },
        { execution_id: e1.execution_id, key: 'sleep:a', due_at: at(6_000) },
      ],
      timersCleared: [{ execution_id: e1.execution_id, key: 'retry:b' }],
      states: [{ execution_id: e1.execution_id, state: { saved: 2 }, updated_at: at(7) }],
    })
    const timers = rows<{ key: string; due: string }>(
      await db().db.execute(
        sql`SELECT key, to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS due FROM timers ORDER BY key`,
      ),
    )
    expect(timers).toEqual([{ key: 'sleep:a', due: at(6_000) }])
    expect((await store.state.get(e1.execution_id))?.state).toEqual({ saved: 2 })
  })

  it('commit with a stale epoch writes nothing: not the other executions, tasks, events, timers or state', async () => {
    const fresh = await created()
    const stale = await created()
    await db().db.execute(sql`UPDATE executions SET epoch = 7 WHERE execution_id = ${stale.execution_id}::uuid`)
    const batch: CommitBatch = {
      creates: [],
      executions: [
        { execution_id: fresh.execution_id, epoch: 1, patch: patchOf(fresh, 'running', 1, { start_time: at(1) }) },
        { execution_id: stale.execution_id, epoch: 1, patch: patchOf(stale, 'running', 1, { start_time: at(1) }) },
      ],
      tasks: [
        { execution_id: fresh.execution_id, row: { ...newTask('a'), status: 'running', snapshot: null, skip: null } },
        { execution_id: stale.execution_id, row: { ...newTask('a'), status: 'running', snapshot: null, skip: null } },
      ],
      events: [event(fresh.execution_id, 1, 'workflow_started'), event(stale.execution_id, 1, 'workflow_started')],
      timersSet: [{ execution_id: fresh.execution_id, key: 'timeout', due_at: at(10) }],
      timersCleared: [],
      states: [{ execution_id: fresh.execution_id, state: { a: 1 }, updated_at: at(1) }],
    }
    const error = await store.commit(batch).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(StaleWriteError)
    expect((error as Error).message).toContain(stale.execution_id)

    expect(await store.executions.get(fresh.execution_id)).toStrictEqual(fresh)
    expect(await store.executions.get(stale.execution_id)).toStrictEqual(stale)
    expect(await table('execution_events')).toBe(0)
    expect(await table('timers')).toBe(0)
    expect(await table('execution_state')).toBe(0)

    // A missing execution is stale too (another node deleted it).
    const gone = { ...batch, executions: [{ execution_id: uuidv7(), epoch: 1, patch: patchOf(fresh, 'running') }], tasks: [], events: [] }
    await expect(store.commit({ ...gone, timersSet: [], states: [] })).rejects.toBeInstanceOf(StaleWriteError)
  })

  it('commit keeps the last row when one task appears twice in a batch, and appends rows of new tasks last', async () => {
    const e = await created()
    await store.commit({
      ...emptyBatch(),
      executions: [{ execution_id: e.execution_id, epoch: 1, patch: patchOf(e, 'running', 0) }],
      tasks: [
        { execution_id: e.execution_id, row: { ...newTask('a'), status: 'running', attempts: 1, snapshot: null, skip: null } },
        {
          execution_id: e.execution_id,
          row: { ...newTask('a'), status: 'completed', attempts: 1, output: { ok: 1 }, snapshot: null, skip: null },
        },
        { execution_id: e.execution_id, row: { ...newTask('late'), status: 'pending', snapshot: null, skip: null } },
      ],
    })
    const got = await store.executions.get(e.execution_id)
    expect(got!.task_executions.a).toMatchObject({ status: 'completed', output: { ok: 1 } })
    expect(Object.keys(got!.task_executions)).toEqual(['b', 'a', 'c', 'late'])
  })

  it('commit of an empty batch does nothing', async () => {
    await store.commit(emptyBatch())
    expect(await table('executions')).toBe(0)
  })

  it('commit of 12,000 task rows and events in one batch (chunked) lands whole', async () => {
    const ids = Array.from({ length: 6_000 }, (_, i) => `t${i}`)
    const big: WorkflowRecord = { workflowId: uuidv7(), version: 1, definition: definition('big', ids), createdAt: at(0), updatedAt: at(0) }
    await store.workflows.insert(big)
    const e1 = execution(big)
    const e2 = execution(big)
    for (const e of [e1, e2]) await store.executions.create(e, initOf())
    const batch: CommitBatch = emptyBatch()
    for (const e of [e1, e2]) {
      batch.executions.push({ execution_id: e.execution_id, epoch: 1, patch: patchOf(e, 'running', ids.length) })
      ids.forEach((id, i) => {
        batch.tasks.push({
          execution_id: e.execution_id,
          row: { ...newTask(id), status: 'completed', output: i, attempts: 1, snapshot: null, skip: null },
        })
        batch.events.push(event(e.execution_id, i + 1, 'task_completed', id, { output: i }))
      })
    }
    const t0 = performance.now()
    await store.commit(batch)
    console.log(`[${driver.name}] commit of 12,000 task rows + 12,000 events: ${(performance.now() - t0).toFixed(0)} ms`)
    expect(await table('execution_events')).toBe(12_000)
    const [done] = rows<{ n: number }>(
      await db().db.execute(sql`SELECT count(*)::int AS n FROM task_executions WHERE status = 'completed'`),
    )
    expect(done!.n).toBe(12_000)
    expect((await store.executions.get(e2.execution_id))!.task_executions.t5999).toMatchObject({ status: 'completed', output: 5999 })
  })

  it('commit of a 100-task batch: timing', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `t${i}`)
    const w: WorkflowRecord = {
      workflowId: uuidv7(),
      version: 1,
      definition: definition('hundred', ids),
      createdAt: at(0),
      updatedAt: at(0),
    }
    await store.workflows.insert(w)
    const list = Array.from({ length: 10 }, () => execution(w))
    for (const e of list) await store.executions.create(e, initOf())
    const runs = 30
    const t0 = performance.now()
    for (let r = 0; r < runs; r++) {
      // 10 executions × 10 task transitions each, with their events: a busy tick.
      const batch = emptyBatch()
      for (const e of list) {
        batch.executions.push({ execution_id: e.execution_id, epoch: 1, patch: patchOf(e, 'running', (r + 1) * 10) })
        for (let i = 0; i < 10; i++) {
          const id = ids[(r * 10 + i) % 100]!
          batch.tasks.push({
            execution_id: e.execution_id,
            row: { ...newTask(id), status: 'running', attempts: 1, input: { i }, snapshot: null, skip: null },
          })
          batch.events.push(event(e.execution_id, r * 10 + i + 1, 'task_started', id, { attempt: 1 }))
        }
      }
      await store.commit(batch)
    }
    const ms = (performance.now() - t0) / runs
    console.log(`[${driver.name}] commit of 100 task rows + 100 events + 10 executions: ${ms.toFixed(2)} ms per batch`)
    expect(await table('execution_events')).toBe(runs * 100)
  })

  // --- recovery and retention ---------------------------------------------------------------------------------------

  it('claimRecoverable claims non-terminal executions with their pinned definition, tasks, timers, state and last_seq', async () => {
    const running = await created(
      { status: 'running', start_time: at(1) },
      { timers: [{ execution_id: '', key: 'timeout', due_at: at(99) }], state: { s: 1 } },
    )
    const paused = await created({ status: 'paused', start_time: at(1) })
    await created({ status: 'completed', start_time: at(1), end_time: at(2) })
    // The workflow moved on to version 2: the executions stay pinned to version 1.
    await store.workflows.insert({ ...wf, version: 2, definition: definition('Main', ['other']), updatedAt: at(50) })
    await store.commit({
      ...emptyBatch(),
      executions: [{ execution_id: running.execution_id, epoch: 1, patch: patchOf(running, 'running', 2) }],
      tasks: [{ execution_id: running.execution_id, row: { ...newTask('c'), status: 'skipped', skip: 'upstream', snapshot: null } }],
      events: [event(running.execution_id, 1, 'workflow_started'), event(running.execution_id, 2, 'task_skipped', 'c')],
      timersSet: [{ execution_id: running.execution_id, key: 'retry:a', due_at: at(10) }],
    })

    const claimed = await store.executions.claimRecoverable('node-b')
    expect(claimed.map((r) => r.execution.execution_id)).toEqual([running.execution_id, paused.execution_id])
    const [r1, r2] = claimed as [(typeof claimed)[0], (typeof claimed)[0]]
    expect(r1.epoch).toBe(2)
    expect(r1.last_seq).toBe(2)
    expect(r1.definition).toEqual(wf.definition)
    expect(r1.tasks.map((t) => [t.task_id, t.status, t.skip])).toEqual([
      ['b', 'pending', null],
      ['a', 'pending', null],
      ['c', 'skipped', 'upstream'],
    ])
    expect(r1.execution.task_executions.c).toStrictEqual({ ...newTask('c'), status: 'skipped' })
    expect(r1.timers).toEqual([
      { execution_id: running.execution_id, key: 'retry:a', due_at: at(10) },
      { execution_id: running.execution_id, key: 'timeout', due_at: at(99) },
    ])
    expect(r1.state).toEqual({ s: 1 })
    expect(r2).toMatchObject({ epoch: 2, last_seq: 0, state: {}, timers: [] })
    expect(r2.execution).toStrictEqual(paused)

    const owners = rows<{ owner: string; epoch: number }>(
      await db().db.execute(sql`SELECT owner, epoch FROM executions WHERE status <> 'completed'`),
    )
    expect(owners).toEqual([
      { owner: 'node-b', epoch: 2 },
      { owner: 'node-b', epoch: 2 },
    ])
    // The previous owner is fenced off.
    await expect(
      store.commit({ ...emptyBatch(), executions: [{ execution_id: paused.execution_id, epoch: 1, patch: patchOf(paused, 'running') }] }),
    ).rejects.toBeInstanceOf(StaleWriteError)
    // Claiming again fences node-b in turn.
    expect((await store.executions.claimRecoverable('node-c')).map((r) => r.epoch)).toEqual([3, 3])
  })

  it('claimRecoverable with nothing to claim returns []', async () => {
    await created({ status: 'failed', end_time: at(1) })
    expect(await store.executions.claimRecoverable('node-b')).toEqual([])
  })

  it('deleteEndedBefore deletes old terminal executions with all their rows', async () => {
    const cutoff = at(10_000)
    const old = await created(
      { status: 'completed', end_time: at(5_000) },
      { timers: [{ execution_id: '', key: 'timeout', due_at: at(1) }], state: { a: 1 } },
    )
    const recent = await created({ status: 'failed', end_time: at(20_000) })
    const live = await created({ status: 'running' })
    await store.commit({
      ...emptyBatch(),
      executions: [{ execution_id: old.execution_id, epoch: 1, patch: patchOf(old, 'completed', 1) }],
      events: [event(old.execution_id, 1, 'workflow_completed')],
    })
    await store.checkpoints.insert(checkpoint(old.execution_id, at(4_000)))

    expect(await store.executions.deleteEndedBefore(cutoff)).toBe(1)
    expect(await store.executions.get(old.execution_id)).toBeUndefined()
    for (const name of ['task_executions', 'execution_events', 'timers', 'execution_state', 'checkpoints'])
      expect(await table(name, old.execution_id)).toBe(0)
    expect(await store.executions.get(recent.execution_id)).toBeDefined()
    expect(await store.executions.get(live.execution_id)).toBeDefined()
    expect(await table('task_executions')).toBe(6)
    expect(await store.executions.deleteEndedBefore(cutoff)).toBe(0)
  })

  // --- state, checkpoints ---------------------------------------------------------------------------------------------

  it('state: put then get, replaced on put', async () => {
    const e = await created()
    expect(await store.state.get(e.execution_id)).toBeUndefined()
    const record = { execution_id: e.execution_id, state: { a: [1, 2], b: 'x' }, updated_at: at(123) }
    await store.state.put(record)
    expect(await store.state.get(e.execution_id)).toStrictEqual(record)
    await store.state.put({ ...record, state: {}, updated_at: at(456) })
    expect(await store.state.get(e.execution_id)).toStrictEqual({ ...record, state: {}, updated_at: at(456) })
  })

  function checkpoint(executionId: string, createdAt: string): CheckpointRecord {
    return {
      checkpoint_id: uuidv7(),
      execution_id: executionId,
      created_at: createdAt,
      workflow_status: 'running',
      task_statuses: { a: 'completed', b: 'running' },
      completed_tasks: ['a'],
      state_data: { k: 'v' },
      outputs: { a: { output: '42', attempts: 1 } },
    }
  }

  it('checkpoints: insert, get with outputs, list without them, oldest first, by execution', async () => {
    const e1 = await created()
    const e2 = await created()
    const c1 = checkpoint(e1.execution_id, at(1))
    const c2 = checkpoint(e2.execution_id, at(2))
    const c3 = checkpoint(e1.execution_id, at(3))
    for (const c of [c1, c2, c3]) await store.checkpoints.insert(c)
    expect(await store.checkpoints.get(c1.checkpoint_id)).toStrictEqual(c1)
    expect(await store.checkpoints.get(uuidv7())).toBeUndefined()
    const bare = ({ outputs: _, ...c }: CheckpointRecord) => c
    expect(await store.checkpoints.list({ limit: 10, offset: 0 })).toStrictEqual({ items: [c1, c2, c3].map(bare), total: 3 })
    expect(await store.checkpoints.list({ execution_id: e1.execution_id, limit: 1, offset: 1 })).toStrictEqual({
      items: [bare(c3)],
      total: 2,
    })
  })

  // --- JSON and time round trips -------------------------------------------------------------------------------------

  it('jsonb columns round-trip every JSON value: strings that look like JSON, null, arrays, nesting', async () => {
    for (const value of JSON_VALUES) {
      const e = await created({ metadata: { value }, input: { value } })
      await store.commit({
        ...emptyBatch(),
        executions: [{ execution_id: e.execution_id, epoch: 1, patch: { ...patchOf(e, 'completed', 1), output: value, end_time: at(1) } }],
        tasks: [
          {
            execution_id: e.execution_id,
            row: { ...newTask('a'), status: 'completed', input: value, output: value, snapshot: value, skip: null },
          },
        ],
        events: [event(e.execution_id, 1, 'task_completed', 'a', { output: value })],
        states: [{ execution_id: e.execution_id, state: { value }, updated_at: at(1) }],
      })
      const got = await store.executions.get(e.execution_id)
      expect(got!.output, JSON.stringify(value)).toStrictEqual(value)
      expect(got!.metadata).toStrictEqual({ value })
      expect(got!.input).toStrictEqual({ value })
      expect(got!.task_executions.a!.input).toStrictEqual(value)
      expect(got!.task_executions.a!.output).toStrictEqual(value)
      expect((await store.events.list(e.execution_id))[0]!.data).toStrictEqual({ output: value })
      expect((await store.state.get(e.execution_id))!.state).toStrictEqual({ value })
      const listed = (await store.executions.list({ limit: 1, offset: 0 })).items[0]!
      expect(listed.output).toStrictEqual(value)
      const [claimed] = await store.executions.claimRecoverable('x')
      expect(claimed).toBeUndefined() // completed: not claimed
    }
    // Through the other writers: checkpoints, templates, workflow definitions, and recovery's task rows.
    const e = await created({ status: 'running' })
    await store.commit({
      ...emptyBatch(),
      executions: [{ execution_id: e.execution_id, epoch: 1, patch: patchOf(e, 'running', 0) }],
      tasks: JSON_VALUES.map((value, i) => ({
        execution_id: e.execution_id,
        row: { ...newTask(`j${i}`), output: value, snapshot: value, skip: null },
      })),
    })
    const [claimed] = await store.executions.claimRecoverable('x')
    for (const [i, value] of JSON_VALUES.entries()) {
      const row = claimed!.tasks.find((t) => t.task_id === `j${i}`)!
      expect(row.output, JSON.stringify(value)).toStrictEqual(value)
      expect(row.snapshot).toStrictEqual(value)
    }
    const c = { ...checkpoint(e.execution_id, at(1)), state_data: { all: JSON_VALUES }, outputs: { a: { output: '123', attempts: 1 } } }
    await store.checkpoints.insert(c)
    expect(await store.checkpoints.get(c.checkpoint_id)).toStrictEqual(c)
    const w: WorkflowRecord = { ...wf, workflowId: uuidv7(), definition: { ...definition('json', ['t']), output: { all: JSON_VALUES } } }
    await store.workflows.insert(w)
    expect(await store.workflows.latest(w.workflowId)).toStrictEqual(w)
  })

  it('times are ISO-8601 UTC with milliseconds, whatever the session time zone', async () => {
    // One transaction pins one connection (of the postgres pool) to the time zone; the store runs inside it.
    await db().db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL TIME ZONE 'America/New_York'`)
      const local = createSqlStore({ ...db(), db: tx, close: async () => {} })
      const e = execution(wf, { status: 'running', start_time: '2026-03-08T06:59:59.999Z' })
      await local.executions.create(e, initOf({ timers: [{ execution_id: e.execution_id, key: 'k', due_at: '2026-07-01T12:00:00.000Z' }] }))
      await local.commit({
        ...emptyBatch(),
        executions: [{ execution_id: e.execution_id, epoch: 1, patch: patchOf(e, 'running', 1) }],
        tasks: [
          {
            execution_id: e.execution_id,
            row: { ...newTask('a'), status: 'running', start_time: '2026-03-08T07:00:00.001Z', snapshot: null, skip: null },
          },
        ],
        events: [{ ...event(e.execution_id, 1, 'task_started', 'a'), timestamp: '2026-12-31T23:59:59.500Z' }],
      })
      const [zone] = rows<{ tz: string }>(await tx.execute(sql`SELECT current_setting('TimeZone') AS tz`))
      expect(zone!.tz).toBe('America/New_York')
      const got = await local.executions.get(e.execution_id)
      expect(got!.start_time).toBe('2026-03-08T06:59:59.999Z')
      expect(got!.task_executions.a!.start_time).toBe('2026-03-08T07:00:00.001Z')
      expect((await local.events.list(e.execution_id))[0]!.timestamp).toBe('2026-12-31T23:59:59.500Z')
      const [claimed] = await local.executions.claimRecoverable('n2')
      expect(claimed!.execution.start_time).toBe('2026-03-08T06:59:59.999Z')
      expect(claimed!.tasks[1]!.start_time).toBe('2026-03-08T07:00:00.001Z')
      expect(claimed!.timers[0]!.due_at).toBe('2026-07-01T12:00:00.000Z')
    })
  })
})
