import { integer, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { timestamptz } from './columns.js'

/** One row per workflow: its current name and latest version. The definitions live in `workflow_versions`. */
export const workflows = pgTable('workflows', {
  workflowId: uuid('workflow_id').primaryKey(),
  name: text('name').notNull(),
  latestVersion: integer('latest_version').notNull(),
  createdAt: timestamptz('created_at').notNull(),
  updatedAt: timestamptz('updated_at').notNull(),
})
