import { integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import type { EventType } from '../../model/events.js'
import { jsonb, timestamptz } from './columns.js'
import { executions } from './executions.js'

/** The history: a gap-free `seq` per execution (the SSE/WebSocket event ids). */
export const executionEvents = pgTable(
  'execution_events',
  {
    executionId: uuid('execution_id')
      .notNull()
      .references(() => executions.executionId, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    type: text('type').$type<EventType>().notNull(),
    taskId: text('task_id'),
    timestamp: timestamptz('timestamp').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.executionId, t.seq] })],
)
