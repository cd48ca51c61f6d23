import { sql } from 'drizzle-orm'
import { index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import type { ErrorInfo } from '../../model/events.js'
import { jsonb, timestamptz } from './columns.js'
import { executionStatus } from './enums.js'

/**
 * One row per execution. `workflow_id` has no foreign key: deleting a workflow is refused while executions run, and
 * finished executions keep their history after it is gone.
 *
 * `owner`, `lease_expires_at` and `epoch` fence writers (DESIGN.md "Several nodes on one Postgres"): a claim bumps `epoch`, and every
 * write of an owner is conditional on the epoch it claimed with.
 */
export const executions = pgTable(
  'executions',
  {
    executionId: uuid('execution_id').primaryKey(),
    workflowId: uuid('workflow_id').notNull(),
    workflowVersion: integer('workflow_version').notNull(),
    status: executionStatus('status').notNull(),
    input: jsonb('input').$type<Record<string, unknown>>().notNull(),
    output: jsonb('output').$type<unknown>(),
    error: jsonb('error').$type<ErrorInfo | null>(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull(),
    restoredFrom: uuid('restored_from'),
    /** The execution and task that started this one as a sub-workflow (`{execution_id, task_id}`), or null. */
    /** The execution this one reruns (`POST /api/executions/{id}/rerun`), or null. */
    rerunOf: uuid('rerun_of'),
    parent: jsonb('parent').$type<{ execution_id: string; task_id: string } | null>(),
    startTime: timestamptz('start_time'),
    endTime: timestamptz('end_time'),
    createdAt: timestamptz('created_at')
      .notNull()
      .default(sql`now()`),
    /** The seq of the last committed event. */
    lastSeq: integer('last_seq').notNull().default(0),
    owner: text('owner'),
    leaseExpiresAt: timestamptz('lease_expires_at'),
    epoch: integer('epoch').notNull().default(0),
  },
  (t) => [
    index('executions_status_idx').on(t.status),
    index('executions_workflow_id_idx').on(t.workflowId),
    index('executions_created_at_idx').on(t.createdAt),
    index('executions_parent_idx').using('btree', sql`(${t.parent}->>'execution_id')`),
    // The claim's scan (claim.ts) and the renewal's: only unfinished executions, oldest first.
    index('executions_unfinished_idx')
      .on(t.createdAt)
      .where(sql`status IN ('pending', 'running', 'paused')`),
    // Retention, and the event feed's poll for executions that ended lately (services/event-feed.ts).
    index('executions_end_time_idx').on(t.endTime),
    index('executions_owner_idx')
      .on(t.owner)
      .where(sql`status IN ('pending', 'running', 'paused')`),
  ],
)
