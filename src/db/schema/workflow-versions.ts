import { integer, pgTable, primaryKey, uuid } from 'drizzle-orm/pg-core'
import type { WorkflowDefinition } from '../../model/definition.js'
import { jsonb, timestamptz } from './columns.js'
import { workflows } from './workflows.js'

/** Every version of every workflow, immutable: an execution is pinned to one (`executions.workflow_version`). */
export const workflowVersions = pgTable(
  'workflow_versions',
  {
    workflowId: uuid('workflow_id')
      .notNull()
      .references(() => workflows.workflowId, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    definition: jsonb('definition').$type<WorkflowDefinition>().notNull(),
    /** When this version was written: the workflow's `updated_at` as of this version. */
    createdAt: timestamptz('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.version] })],
)
