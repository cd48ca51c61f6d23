import { boolean, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { timestamptz } from './columns.js'

/**
 * One row per schedule tick taken (API.md "Schedules"): the primary key is what makes a tick fire exactly once across
 * restarts and nodes — the insert of a tick that exists already does nothing, and only the inserter starts anything.
 * `schedule` names the schedule within the workflow (its time zone and cron, model/schedule.ts `scheduleKey`).
 * `execution_id` is chosen before the insert (null: the tick started nothing, e.g. its input was invalid);
 * `started` turns true once that execution's rows are committed, so a crash in between is finished at the next start
 * (see services/scheduler.ts).
 */
export const scheduleTicks = pgTable(
  'schedule_ticks',
  {
    workflowId: uuid('workflow_id').notNull(),
    schedule: text('schedule').notNull(),
    tick: timestamptz('tick').notNull(),
    executionId: uuid('execution_id'),
    createdAt: timestamptz('created_at').notNull(),
    started: boolean('started').notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.schedule, t.tick] })],
)
