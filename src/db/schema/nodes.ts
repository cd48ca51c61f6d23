import { sql } from 'drizzle-orm'
import { pgTable, text } from 'drizzle-orm/pg-core'
import { timestamptz } from './columns.js'

/**
 * The Harmonia processes sharing this database (API.md "Several nodes"): one row per node, its heartbeat written with
 * each lease renewal. Informational (GET /api/nodes): ownership itself lives in `executions.owner` and its lease.
 * Times are the database clock's, like leases.
 */
export const nodes = pgTable('nodes', {
  nodeId: text('node_id').primaryKey(),
  startedAt: timestamptz('started_at')
    .notNull()
    .default(sql`now()`),
  lastSeen: timestamptz('last_seen')
    .notNull()
    .default(sql`now()`),
  version: text('version').notNull(),
  /** Set by a graceful stop (its leases are released then). */
  stoppedAt: timestamptz('stopped_at'),
})
