import { integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import type { ErrorInfo } from '../../model/events.js'
import type { SkipReason } from '../../model/status.js'
import { jsonb, timestamptz } from './columns.js'
import { taskStatus } from './enums.js'
import { executions } from './executions.js'

/** One row per task of an execution, rewritten whole on each transition (bytes do not grow with the DAG). */
export const taskExecutions = pgTable(
  'task_executions',
  {
    executionId: uuid('execution_id')
      .notNull()
      .references(() => executions.executionId, { onDelete: 'cascade' }),
    taskId: text('task_id').notNull(),
    /** Definition order. */
    position: integer('position').notNull(),
    status: taskStatus('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    retries: integer('retries').notNull().default(0),
    input: jsonb('input').$type<unknown>(),
    output: jsonb('output').$type<unknown>(),
    error: jsonb('error').$type<ErrorInfo | null>(),
    startTime: timestamptz('start_time'),
    endTime: timestamptz('end_time'),
    /** The task actor's persisted snapshot while it waits (retrying, paused). */
    snapshot: jsonb('snapshot').$type<unknown>(),
    skip: text('skip').$type<SkipReason>(),
    /** The attempt that waits for its component's callback (`{attempt, deadline}`), while it waits. */
    awaiting: jsonb('awaiting').$type<{ attempt: number; deadline: string | null }>(),
    /** The child execution a `harmonia.run_workflow` task started. */
    childExecutionId: uuid('child_execution_id'),
    /** A fan-out task's progress: `{total, completed, failed, running}`. */
    items: jsonb('items').$type<{ total: number; completed: number; failed: number; running: number }>(),
  },
  (t) => [primaryKey({ columns: [t.executionId, t.taskId] })],
)
