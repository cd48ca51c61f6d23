import { integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { jsonb, timestamptz } from './columns.js'

/** Event subscriptions (webhooks, API.md "Event subscriptions"): matching events are POSTed to `url`, signed. */
export const subscriptions = pgTable('subscriptions', {
  subscriptionId: uuid('subscription_id').primaryKey(),
  url: text('url').notNull(),
  /** Event names to send; null: every event. */
  types: jsonb('types').$type<string[] | null>(),
  workflowId: uuid('workflow_id'),
  /** Sealed like component secrets. */
  secret: text('secret'),
  createdAt: timestamptz('created_at').notNull(),
  /** Set when the receiver kept failing for 24 h: nothing more is sent. */
  disabledAt: timestamptz('disabled_at'),
  lastError: text('last_error'),
  /** Since when deliveries fail without a success in between. */
  failingSince: timestamptz('failing_since'),
})

/**
 * How far each subscription got with each execution's events: deliveries are in `seq` order per execution and
 * at least once, so the cursor moves only after the receiver answered 2xx.
 */
export const subscriptionCursors = pgTable(
  'subscription_cursors',
  {
    subscriptionId: uuid('subscription_id')
      .notNull()
      .references(() => subscriptions.subscriptionId, { onDelete: 'cascade' }),
    executionId: uuid('execution_id').notNull(),
    deliveredSeq: integer('delivered_seq').notNull().default(0),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamptz('next_attempt_at'),
    lastError: text('last_error'),
  },
  (t) => [primaryKey({ columns: [t.subscriptionId, t.executionId] })],
)
