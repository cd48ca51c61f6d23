import { integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import type { ErrorInfo } from '../../model/events.js'
import { jsonb, timestamptz } from './columns.js'
import { taskStatus } from './enums.js'
import { executions } from './executions.js'

/**
 * One row per element of a fan-out task (`for_each`), written on each of its transitions: bytes per element
 * transition do not grow with the array. A completed element's output is never computed again after a restart.
 */
export const taskItems = pgTable(
  'task_items',
  {
    executionId: uuid('execution_id')
      .notNull()
      .references(() => executions.executionId, { onDelete: 'cascade' }),
    taskId: text('task_id').notNull(),
    index: integer('index').notNull(),
    status: taskStatus('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    output: jsonb('output').$type<unknown>(),
    error: jsonb('error').$type<ErrorInfo | null>(),
    startTime: timestamptz('start_time'),
    endTime: timestamptz('end_time'),
  },
  (t) => [primaryKey({ columns: [t.executionId, t.taskId, t.index] })],
)
