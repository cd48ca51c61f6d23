import { index, pgTable, uuid } from 'drizzle-orm/pg-core'
import type { TaskStatus } from '../../model/status.js'
import { jsonb, timestamptz } from './columns.js'
import { executionStatus } from './enums.js'
import { executions } from './executions.js'

/** A consistent copy of an execution's statuses, state and completed outputs: what a restore starts from. */
export const checkpoints = pgTable(
  'checkpoints',
  {
    checkpointId: uuid('checkpoint_id').primaryKey(),
    executionId: uuid('execution_id')
      .notNull()
      .references(() => executions.executionId, { onDelete: 'cascade' }),
    createdAt: timestamptz('created_at').notNull(),
    workflowStatus: executionStatus('workflow_status').notNull(),
    taskStatuses: jsonb('task_statuses').$type<Record<string, TaskStatus>>().notNull(),
    completedTasks: jsonb('completed_tasks').$type<string[]>().notNull(),
    stateData: jsonb('state_data').$type<Record<string, unknown>>().notNull(),
    outputs: jsonb('outputs').$type<Record<string, { output: unknown; attempts: number }>>().notNull(),
  },
  (t) => [index('checkpoints_execution_id_idx').on(t.executionId)],
)
