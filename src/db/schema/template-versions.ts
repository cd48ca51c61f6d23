import { integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { jsonb, timestamptz } from './columns.js'
import { templates } from './templates.js'

/** Every version of a template (`PUT /api/templates/{id}` adds one); `templates` holds the latest. Never changed. */
export const templateVersions = pgTable(
  'template_versions',
  {
    templateId: uuid('template_id')
      .notNull()
      .references(() => templates.templateId, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull(),
    workflowDefinitionId: uuid('workflow_definition_id').notNull(),
    /** The workflow version the template instantiates. */
    workflowVersion: integer('workflow_version').notNull(),
    parameters: jsonb('parameters').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamptz('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.templateId, t.version] })],
)
