import { pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { timestamptz } from './columns.js'

/**
 * One row per schedule tick that started an execution (API.md "Schedules"): the primary key is what makes a tick fire
 * exactly once across restarts and nodes — the insert of a tick that exists already fails, and nothing starts.
 * `schedule` names the schedule within the workflow (its cron and time zone).
 */
export const scheduleTicks = pgTable(
  'schedule_ticks',
  {
    workflowId: uuid('workflow_id').notNull(),
    schedule: text('schedule').notNull(),
    tick: timestamptz('tick').notNull(),
    executionId: uuid('execution_id'),
    createdAt: timestamptz('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.schedule, t.tick] })],
)
