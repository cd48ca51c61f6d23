import { pgTable, uuid } from 'drizzle-orm/pg-core'
import { jsonb, timestamptz } from './columns.js'
import { executions } from './executions.js'

/**
 * The signals of an execution (API.md "Signals and approvals"), one document per execution: for each name, whether a
 * task waits for it and every payload received with the attempt that consumed it. Signals of one execution are few,
 * so the document is rewritten whole by the journal's commit, beside the facts that change it.
 */
export const executionSignals = pgTable('execution_signals', {
  executionId: uuid('execution_id')
    .primaryKey()
    .references(() => executions.executionId, { onDelete: 'cascade' }),
  signals: jsonb('signals').$type<Record<string, unknown>>().notNull(),
  updatedAt: timestamptz('updated_at').notNull(),
})
