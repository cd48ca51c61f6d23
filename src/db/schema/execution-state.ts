import { pgTable, uuid } from 'drizzle-orm/pg-core'
import { jsonb, timestamptz } from './columns.js'
import { executions } from './executions.js'

/** The state an execution saved (`saveState`); no row until it saves something. */
export const executionState = pgTable('execution_state', {
  executionId: uuid('execution_id')
    .primaryKey()
    .references(() => executions.executionId, { onDelete: 'cascade' }),
  state: jsonb('state').$type<Record<string, unknown>>().notNull(),
  updatedAt: timestamptz('updated_at').notNull(),
})
