/**
 * The subscriptions part of the Store port (issue 11) on the memory store, PGlite and Postgres alike: a new
 * subscription's cursors start at the committed `last_seq` of unfinished executions only; an execution created later
 * counts from 0; `pending` lists what is behind for enabled subscriptions; a cursor of a deleted subscription is not
 * written, and deleting a subscription takes its cursors.
 */
import { describe, expect, it } from 'vitest'
import { newTaskExecution } from '../../src/actors/projection.js'
import type { Store } from '../../src/db/store.js'
import type { ExecutionEvent } from '../../src/model/events.js'
import { uuidv7 } from '../../src/model/ids.js'
import type { Execution } from '../../src/model/resources.js'
import type { ExecutionStatus } from '../../src/model/status.js'
import type { SubscriptionRecord } from '../../src/model/subscriptions.js'
import { storeCases } from '../support/stores.js'

const T0 = Date.parse('2026-01-01T00:00:00.000Z')
const at = (ms: number) => new Date(T0 + ms).toISOString()
const WORKFLOW = uuidv7()
const OTHER = uuidv7()

async function executionWith(store: Store, workflowId: string, createdMs: number, events: number, status: ExecutionStatus) {
  const execution: Execution = {
    execution_id: uuidv7(),
    workflow_id: workflowId,
    workflow_version: 1,
    status: 'pending',
    start_time: null,
    end_time: null,
    input: {},
    output: null,
    error: null,
    metadata: {},
    restored_from: null,
    rerun_of: null,
    parent: null,
    task_executions: { a: newTaskExecution('a') },
  }
  await store.executions.create(execution, { owner: 'n', epoch: 1, timers: [], state: {}, created_at: at(createdMs) })
  const list: ExecutionEvent[] = Array.from({ length: events }, (_, i) => ({
    seq: i + 1,
    type: 'task_started',
    execution_id: execution.execution_id,
    task_id: 'a',
    timestamp: at(createdMs + i),
    data: {},
  }))
  const patch = { status, start_time: at(createdMs), end_time: null, output: null, error: null, last_seq: events }
  await store.commit({
    creates: [],
    executions: [{ execution_id: execution.execution_id, epoch: 1, patch }],
    tasks: [],
    events: list,
    timersSet: [],
    timersCleared: [],
    states: [],
  })
  return execution.execution_id
}

const subscription = (createdMs: number, fields: Partial<SubscriptionRecord> = {}): SubscriptionRecord => ({
  subscription_id: uuidv7(),
  url: 'http://127.0.0.1:9/hooks',
  types: null,
  workflow_id: null,
  secret: null,
  created_at: at(createdMs),
  disabled_at: null,
  last_error: null,
  failing_since: null,
  ...fields,
})

for (const kind of storeCases) {
  describe.skipIf(kind.skip)(`${kind.title}: subscriptions store`, () => {
    it('starts cursors at last_seq for unfinished executions, counts later ones from 0, and lists what is behind', async () => {
      const { store } = await kind.open()
      try {
        const running = await executionWith(store, WORKFLOW, 0, 3, 'running')
        await executionWith(store, WORKFLOW, 1, 4, 'completed') // finished before: never delivered
        const otherWorkflow = await executionWith(store, OTHER, 2, 2, 'running')
        const sub = subscription(10, { workflow_id: WORKFLOW, types: ['task_started'] })
        await store.subscriptions.create(sub)
        expect(await store.subscriptions.cursor(sub.subscription_id, running)).toMatchObject({ delivered_seq: 3, attempts: 0 })
        expect(await store.subscriptions.cursor(sub.subscription_id, otherWorkflow)).toBeUndefined()
        expect(await store.subscriptions.pending()).toEqual([])
        expect(await store.subscriptions.get(sub.subscription_id)).toEqual(sub)

        const later = await executionWith(store, WORKFLOW, 20, 2, 'running')
        expect(await store.subscriptions.pending()).toEqual([
          {
            subscription_id: sub.subscription_id,
            execution_id: later,
            delivered_seq: 0,
            attempts: 0,
            next_attempt_at: null,
            last_error: null,
            last_seq: 2,
          },
        ])
        const cursor = {
          ...(await store.subscriptions.cursor(sub.subscription_id, running))!,
          attempts: 2,
          next_attempt_at: at(99),
          last_error: 'HTTP 500',
        }
        await store.subscriptions.putCursor(cursor)
        expect(await store.subscriptions.cursor(sub.subscription_id, running)).toEqual(cursor)
        await store.subscriptions.putCursor({
          ...cursor,
          execution_id: later,
          delivered_seq: 2,
          attempts: 0,
          next_attempt_at: null,
          last_error: null,
        })
        expect(await store.subscriptions.pending()).toEqual([])

        // Disabled: nothing pending; health round-trips.
        const health = { failing_since: at(30), last_error: 'disabled after failing for 24 h: HTTP 500', disabled_at: at(40) }
        await store.subscriptions.setHealth(sub.subscription_id, health)
        expect(await store.subscriptions.get(sub.subscription_id)).toMatchObject(health)
        await executionWith(store, WORKFLOW, 50, 1, 'running')
        expect(await store.subscriptions.pending()).toEqual([])

        // Deleted: its cursors go with it, and a late cursor write is dropped.
        const second = subscription(60)
        await store.subscriptions.create(second)
        expect((await store.subscriptions.list({ limit: 1, offset: 1 })).items.map((s) => s.subscription_id)).toEqual([
          second.subscription_id,
        ])
        expect((await store.subscriptions.list({ limit: 10, offset: 0 })).total).toBe(2)
        expect(await store.subscriptions.delete(sub.subscription_id)).toBe(true)
        expect(await store.subscriptions.delete(sub.subscription_id)).toBe(false)
        expect(await store.subscriptions.cursor(sub.subscription_id, running)).toBeUndefined()
        await store.subscriptions.putCursor(cursor)
        expect(await store.subscriptions.cursor(sub.subscription_id, running)).toBeUndefined()
        expect((await store.subscriptions.all()).map((s) => s.subscription_id)).toEqual([second.subscription_id])
        await store.subscriptions.setSecret(second.subscription_id, 'v1:sealed')
        expect((await store.subscriptions.get(second.subscription_id))!.secret).toBe('v1:sealed')
      } finally {
        await store.close()
      }
    })
  })
}
