import { integer, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { jsonb, timestamptz } from './columns.js'

export const templates = pgTable('templates', {
  templateId: uuid('template_id').primaryKey(),
  name: text('name').notNull(),
  description: text('description').notNull(),
  workflowDefinitionId: uuid('workflow_definition_id').notNull(),
  parameters: jsonb('parameters').$type<Record<string, unknown>>().notNull(),
  /** The template's own version (the latest; every one is in `template_versions`). */
  version: integer('version').notNull(),
  /** The workflow version it instantiates. */
  workflowVersion: integer('workflow_version').notNull().default(1),
  createdAt: timestamptz('created_at').notNull(),
})
