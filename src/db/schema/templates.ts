import { integer, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { jsonb, timestamptz } from './columns.js'

export const templates = pgTable('templates', {
  templateId: uuid('template_id').primaryKey(),
  name: text('name').notNull(),
  description: text('description').notNull(),
  workflowDefinitionId: uuid('workflow_definition_id').notNull(),
  parameters: jsonb('parameters').$type<Record<string, unknown>>().notNull(),
  version: integer('version').notNull(),
  createdAt: timestamptz('created_at').notNull(),
})
