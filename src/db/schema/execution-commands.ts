import { sql } from 'drizzle-orm'
import { index, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { jsonb, timestamptz } from './columns.js'
import { executions } from './executions.js'

/**
 * Commands for an execution that another node owns (pause, cancel, a signal, saved state, a callback…): written by
 * the node that received the request, applied by the owner, which writes the answer (DESIGN.md "Several nodes").
 * The row is the truth, NOTIFY only wakes the owner early: a command outlives a lost notification and its owner's
 * death (the next owner applies it after the takeover).
 */
export const executionCommands = pgTable(
  'execution_commands',
  {
    commandId: uuid('command_id').primaryKey(),
    executionId: uuid('execution_id')
      .notNull()
      .references(() => executions.executionId, { onDelete: 'cascade' }),
    op: text('op').notNull(),
    args: jsonb('args').$type<unknown>().notNull(),
    createdAt: timestamptz('created_at')
      .notNull()
      .default(sql`now()`),
    /** `{ok: true, value}` or `{ok: false, error}` once applied; null while it waits for the owner. */
    answer: jsonb('answer').$type<unknown>(),
    answeredAt: timestamptz('answered_at'),
  },
  (t) => [
    index('execution_commands_waiting_idx')
      .on(t.executionId)
      .where(sql`answered_at IS NULL`),
  ],
)
