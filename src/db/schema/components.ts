import { doublePrecision, pgTable, text } from 'drizzle-orm/pg-core'
import { jsonb, timestamptz } from './columns.js'

/**
 * Remote components registered through the API (`POST /api/components`). Config-file and Hermes components are not
 * stored: the file and Hermes are their truth. The secret is kept for signing calls and checking callbacks; it is
 * never returned, logged or put in events.
 */
export const components = pgTable('components', {
  name: text('name').primaryKey(),
  url: text('url').notNull(),
  /** The actions it serves; null: any. */
  actions: jsonb('actions').$type<string[] | null>(),
  secret: text('secret'),
  /** Seconds one call may take. */
  timeout: doublePrecision('timeout'),
  description: text('description').notNull().default(''),
  metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull(),
  createdAt: timestamptz('created_at').notNull(),
  updatedAt: timestamptz('updated_at').notNull(),
})
