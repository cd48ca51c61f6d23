import type { ExecutionEvent } from '../../model/events.js'
import type { Execution } from '../../model/resources.js'
import type { CommitBatch, ExecutionPatch, ItemRow, TaskRow, TimerRow } from '../store.js'
import { lastBy } from './helpers.js'

/**
 * A commit batch turned into the recordsets its one statement reads (commit.ts), merged in JS first.
 *
 * The CTEs of one statement share one snapshot: a CTE cannot see a row another CTE of the same statement writes. So a
 * row must appear at most once per recordset, holding its latest value: an execution created in this batch is inserted
 * with its latest patch (not inserted, then updated), its task rows are merged with the batch's changes to them, and
 * timers and states keep their last value per key. Pure: no IO, no clock.
 */

/** A new execution's row, as the `created` recordset carries it. */
export type CreatedRecordsetRow = Omit<ExecutionPatch, 'output'> & {
  execution_id: string
  workflow_id: string
  workflow_version: number
  input: unknown
  output: unknown
  metadata: Record<string, unknown>
  restored_from: string | null
  rerun_of: string | null
  parent: Execution['parent']
  owner: string | null
  epoch: number
  /** The lease the owner gets, from the database's now (none when unowned). */
  lease_seconds: number | null
  /** From the engine's clock (NewExecution.created_at), never the database's. */
  created_at: string
}

/** A fenced execution update: applied only where the stored epoch is still `epoch`. */
export type FencedRecordsetRow = ExecutionPatch & { execution_id: string; epoch: number }

/** A task row as the recordset carries it; `position` null keeps the stored one (or puts a new row last). */
export type TaskRecordsetRow = TaskRow & { execution_id: string; position: number | null }

export type EventRecordsetRow = Omit<ExecutionEvent, 'task_id' | 'data'> & { task_id: string | null; data: Record<string, unknown> }

export type CommitRecordsets = {
  created: CreatedRecordsetRow[]
  /** Sorted by execution id, so that concurrent writers lock rows in the same order. */
  fenced: FencedRecordsetRow[]
  tasks: TaskRecordsetRow[]
  events: EventRecordsetRow[]
  timersSet: TimerRow[]
  timersCleared: CommitBatch['timersCleared']
  states: CommitBatch['states']
  signals: NonNullable<CommitBatch['signals']>
  items: ItemRecordsetRow[]
  itemCounts: NonNullable<CommitBatch['itemCounts']>
}

/** A fan-out element as the `items` recordset carries it. */
export type ItemRecordsetRow = ItemRow & { execution_id: string; task_id: string }

/** API.md "Several nodes": HARMONIA_LEASE_SECONDS defaults to 15. */
export const DEFAULT_LEASE_SECONDS = 15

const key = (executionId: string, part: string) => `${executionId}\u0000${part}`

export function commitRecordsets(batch: CommitBatch): CommitRecordsets {
  const patches = lastBy(batch.executions, (e) => e.execution_id)
  const created = batch.creates.map(({ execution, owner, epoch, created_at, lease_seconds }): CreatedRecordsetRow => {
    const patch = patches.get(execution.execution_id)?.patch
    patches.delete(execution.execution_id)
    return {
      execution_id: execution.execution_id,
      workflow_id: execution.workflow_id,
      workflow_version: execution.workflow_version,
      status: patch?.status ?? execution.status,
      input: execution.input,
      output: (patch ? patch.output : execution.output) ?? null,
      error: patch ? patch.error : execution.error,
      metadata: execution.metadata,
      restored_from: execution.restored_from,
      rerun_of: execution.rerun_of ?? null,
      parent: execution.parent ?? null,
      start_time: patch ? patch.start_time : execution.start_time,
      end_time: patch ? patch.end_time : execution.end_time,
      last_seq: patch?.last_seq ?? 0,
      owner,
      epoch,
      lease_seconds: owner === null ? null : (lease_seconds ?? DEFAULT_LEASE_SECONDS),
      created_at,
    }
  })
  const fenced = [...patches.values()]
    .sort((a, b) => (a.execution_id < b.execution_id ? -1 : 1))
    .map(({ execution_id, epoch, patch }) => ({
      execution_id,
      epoch,
      status: patch.status,
      start_time: patch.start_time,
      end_time: patch.end_time,
      output: patch.output ?? null,
      error: patch.error,
      last_seq: patch.last_seq,
    }))

  const dirty = lastBy(batch.tasks, (t) => key(t.execution_id, t.row.task_id))
  const tasks: TaskRecordsetRow[] = []
  for (const { execution } of batch.creates) {
    Object.values(execution.task_executions).forEach((task, position) => {
      const k = key(execution.execution_id, task.task_id)
      const latest = dirty.get(k)?.row ?? { ...task, snapshot: null, skip: null }
      dirty.delete(k)
      tasks.push(taskRecordsetRow(execution.execution_id, latest, position))
    })
  }
  for (const t of dirty.values()) tasks.push(taskRecordsetRow(t.execution_id, t.row, null))
  const written = new Set(tasks.map((t) => key(t.execution_id, t.task_id)))

  const events = batch.events.map((e) => ({
    execution_id: e.execution_id,
    seq: e.seq,
    type: e.type,
    task_id: e.task_id ?? null,
    timestamp: e.timestamp,
    data: e.data ?? {},
  }))

  const timersSet = [
    ...batch.creates.flatMap(({ execution, timers }) => timers.map((t) => ({ ...t, execution_id: execution.execution_id }))),
    ...lastBy(batch.timersSet, (t) => key(t.execution_id, t.key)).values(),
  ]
  const cleared = new Set(batch.timersCleared.map((t) => key(t.execution_id, t.key)))
  const timersKept = [...lastBy(timersSet, (t) => key(t.execution_id, t.key)).values()].filter(
    (t) => !cleared.has(key(t.execution_id, t.key)),
  )

  // A new execution's initial state is stamped with its creation time (the engine's clock).
  const states = [
    ...batch.creates
      .filter((c) => Object.keys(c.state).length > 0)
      .map((c) => ({ execution_id: c.execution.execution_id, state: c.state, updated_at: c.created_at })),
    ...lastBy(batch.states, (s) => s.execution_id).values(),
  ]

  return {
    created,
    fenced,
    tasks,
    events,
    timersSet: timersKept,
    timersCleared: batch.timersCleared,
    states: [...lastBy(states, (s) => s.execution_id).values()],
    signals: [...lastBy(batch.signals ?? [], (s) => s.execution_id).values()],
    items: [...lastBy(batch.items ?? [], (i) => key(i.execution_id, `${i.task_id}\u0000${i.row.index}`)).values()].map(
      ({ execution_id, task_id, row }) => ({ ...row, execution_id, task_id }),
    ),
    // A task row written whole carries its counts already: one statement must not change a row twice.
    itemCounts: [...lastBy(batch.itemCounts ?? [], (c) => key(c.execution_id, c.task_id)).values()].filter(
      (c) => !written.has(key(c.execution_id, c.task_id)),
    ),
  }
}

function taskRecordsetRow(executionId: string, row: TaskRow, position: number | null): TaskRecordsetRow {
  return {
    execution_id: executionId,
    task_id: row.task_id,
    position,
    status: row.status,
    attempts: row.attempts,
    retries: row.retries,
    input: row.input ?? null,
    output: row.output ?? null,
    error: row.error,
    start_time: row.start_time,
    end_time: row.end_time,
    snapshot: row.snapshot ?? null,
    skip: row.skip,
    awaiting: row.awaiting ?? null,
    items: row.items,
    child_execution_id: row.child_execution_id,
  }
}
