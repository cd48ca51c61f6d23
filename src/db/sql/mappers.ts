import { sql, type SQL } from 'drizzle-orm'
import { setOwn } from '../../json.js'
import type { ExecutionEvent } from '../../model/events.js'
import type { Checkpoint, Execution, StateRecord, TaskExecution } from '../../model/resources.js'
import { checkpoints, executionEvents, executionState, executions, taskExecutions, templates, timers } from '../schema/index.js'
import type { CheckpointRecord, TaskRow, TemplateRecord, TimerRow, WorkflowRecord } from '../store.js'

/**
 * Rows (drizzle's camelCase, Dates) ↔ port records (the wire's snake_case, ISO strings). No query runs here.
 * Times are ISO-8601 UTC strings with milliseconds on the port and `timestamptz(3)` in the tables.
 */

type ExecutionRow = typeof executions.$inferSelect
type TaskExecutionRow = typeof taskExecutions.$inferSelect

/** ISO-8601 UTC with milliseconds, as the wire wants it. */
export function toIso(value: Date | string | null): string | null {
  if (value === null) return null
  return typeof value === 'string' ? value : value.toISOString()
}

/** A timestamptz formatted by Postgres exactly as `Date.prototype.toISOString()` does. */
export function isoText(column: SQL): SQL {
  return sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
}

/** A task's wire fields as a row has them (a Date) or as `wireTasksJson` builds them (already ISO text). */
export type WireTaskFields = {
  task_id: string
  status: TaskExecution['status']
  start_time: Date | string | null
  end_time: Date | string | null
  input: unknown
  output: unknown
  error: TaskExecution['error']
  retries: number
  attempts: number
  items?: TaskExecution['items'] | null
  child_execution_id?: string | null
}

export function toWireTask(t: WireTaskFields): TaskExecution {
  const task: TaskExecution = {
    task_id: t.task_id,
    status: t.status,
    start_time: toIso(t.start_time),
    end_time: toIso(t.end_time),
    input: t.input,
    output: t.output,
    error: t.error,
    retries: t.retries,
    attempts: t.attempts,
  }
  // Only the tasks they describe carry them (a fan-out, a sub-workflow).
  if (t.items) task.items = t.items
  if (t.child_execution_id) task.child_execution_id = t.child_execution_id
  return task
}

/** A task row with what recovery needs (its waiting snapshot and skip reason). */
export function toTaskRow(t: TaskExecutionRow): TaskRow {
  return {
    ...toWireTask({
      task_id: t.taskId,
      status: t.status,
      start_time: t.startTime,
      end_time: t.endTime,
      input: t.input,
      output: t.output,
      error: t.error ?? null,
      retries: t.retries,
      attempts: t.attempts,
      items: t.items,
      child_execution_id: t.childExecutionId,
    }),
    snapshot: t.snapshot ?? null,
    skip: t.skip ?? null,
    awaiting: t.awaiting ?? null,
  }
}

/**
 * An execution's task rows in definition order, as JSON built by Postgres: read with the row in one statement.
 * The outer column is spelled out: drizzle writes the columns of a one-table select unqualified, and an unqualified
 * `execution_id` here would mean `t.execution_id` (every task row of every execution).
 */
export const wireTasksJson = sql<WireTaskFields[]>`(
  SELECT coalesce(json_agg(json_build_object(
    'task_id', t.task_id, 'status', t.status, 'start_time', ${isoText(sql`t.start_time`)}, 'end_time', ${isoText(sql`t.end_time`)},
    'input', t.input, 'output', t.output, 'error', t.error, 'retries', t.retries, 'attempts', t.attempts,
    'items', t.items, 'child_execution_id', t.child_execution_id
  ) ORDER BY t.position, t.task_id), '[]'::json)
  FROM task_executions AS t WHERE t.execution_id = executions.execution_id)`

export function toExecution(row: ExecutionRow, tasks: WireTaskFields[]): Execution {
  const task_executions: Execution['task_executions'] = {}
  for (const task of tasks) setOwn(task_executions, task.task_id, toWireTask(task))
  return {
    execution_id: row.executionId,
    workflow_id: row.workflowId,
    workflow_version: row.workflowVersion,
    status: row.status,
    start_time: toIso(row.startTime),
    end_time: toIso(row.endTime),
    input: row.input,
    output: row.output ?? null,
    error: row.error ?? null,
    metadata: row.metadata,
    restored_from: row.restoredFrom,
    rerun_of: row.rerunOf,
    parent: row.parent ?? null,
    task_executions,
  }
}

export function toEvent(row: typeof executionEvents.$inferSelect): ExecutionEvent {
  const event: ExecutionEvent = {
    seq: row.seq,
    type: row.type,
    execution_id: row.executionId,
    timestamp: row.timestamp.toISOString(),
    data: row.data,
  }
  if (row.taskId !== null) event.task_id = row.taskId
  return event
}

export function toTimerRow(row: typeof timers.$inferSelect): TimerRow {
  return { execution_id: row.executionId, key: row.key, due_at: row.dueAt.toISOString() }
}

export function toStateRecord(row: typeof executionState.$inferSelect): StateRecord {
  return { execution_id: row.executionId, state: row.state, updated_at: row.updatedAt.toISOString() }
}

/** A version's record: `createdAt` is the workflow's, `updatedAt` when this version was written. */
export function workflowRecord(
  workflowId: string,
  version: number,
  definition: WorkflowRecord['definition'],
  createdAt: Date,
  versionAt: Date,
): WorkflowRecord {
  return { workflowId, version, definition, createdAt: createdAt.toISOString(), updatedAt: versionAt.toISOString() }
}

export function templateRecord(row: typeof templates.$inferSelect): TemplateRecord {
  return {
    template_id: row.templateId,
    name: row.name,
    description: row.description,
    workflow_definition_id: row.workflowDefinitionId,
    parameters: row.parameters,
    version: row.version,
    workflow_version: row.workflowVersion,
    created_at: row.createdAt.toISOString(),
  }
}

/** The row a template is inserted as. */
export function templateRow(record: TemplateRecord): typeof templates.$inferInsert {
  return {
    templateId: record.template_id,
    name: record.name,
    description: record.description,
    workflowDefinitionId: record.workflow_definition_id,
    parameters: record.parameters,
    version: record.version,
    workflowVersion: record.workflow_version,
    createdAt: new Date(record.created_at),
  }
}

/** The row a checkpoint is inserted as, with the outputs a restore needs. */
export function checkpointRow(record: CheckpointRecord): typeof checkpoints.$inferInsert {
  return {
    checkpointId: record.checkpoint_id,
    executionId: record.execution_id,
    createdAt: new Date(record.created_at),
    workflowStatus: record.workflow_status,
    taskStatuses: record.task_statuses,
    completedTasks: record.completed_tasks,
    stateData: record.state_data,
    outputs: record.outputs,
  }
}

export function toCheckpoint(row: Omit<typeof checkpoints.$inferSelect, 'outputs'>): Checkpoint {
  return {
    checkpoint_id: row.checkpointId,
    execution_id: row.executionId,
    created_at: row.createdAt.toISOString(),
    workflow_status: row.workflowStatus,
    task_statuses: row.taskStatuses,
    completed_tasks: row.completedTasks,
    state_data: row.stateData,
  }
}
