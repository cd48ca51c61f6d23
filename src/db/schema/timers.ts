import { index, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { timestamptz } from './columns.js'
import { executions } from './executions.js'

/** Durable timers as absolute due times (DESIGN.md "Durability"): `retry:<task_id>`, `sleep:<task_id>`, `timeout`. */
export const timers = pgTable(
  'timers',
  {
    executionId: uuid('execution_id')
      .notNull()
      .references(() => executions.executionId, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    dueAt: timestamptz('due_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.executionId, t.key] }), index('timers_due_at_idx').on(t.dueAt)],
)
