import { index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { timestamptz } from './columns.js'

/** Every state-changing request (who, what, on what, with what outcome): appended, never changed. */
export const auditLog = pgTable(
  'audit_log',
  {
    auditId: uuid('audit_id').primaryKey(),
    time: timestamptz('time').notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    targetId: text('target_id'),
    status: integer('status').notNull(),
  },
  (t) => [index('audit_log_target').on(t.targetId), index('audit_log_actor').on(t.actor)],
)
