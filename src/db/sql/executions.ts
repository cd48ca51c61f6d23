import { and, count, desc, eq, ilike, inArray, notInArray, or, sql, type SQL } from 'drizzle-orm'
import { isUuid } from '../../model/ids.js'
import { TERMINAL_EXECUTION_STATUSES } from '../../model/status.js'
import type { Database } from '../client.js'
import { executions } from '../schema/index.js'
import type { Store } from '../store.js'
import { claimRecoverable } from './claim.js'
import { batchOf, commitStatement } from './commit.js'
import { containing, paged } from './helpers.js'
import { toExecution, wireTasksJson } from './mappers.js'

/**
 * Executions: reads, the recovery claim and retention. A live execution's rows are written only by the commit
 * (commit.ts), `create` included: it is a commit of one new execution.
 */
export function executionQueries(db: Database): Store['executions'] {
  return {
    async create(execution, init) {
      await commitStatement(db, batchOf({ creates: [{ execution, ...init }] }))
    },

    async get(executionId) {
      if (!isUuid(executionId)) return undefined
      // One statement, so the execution row and its task rows come from the same snapshot.
      const [row] = await db
        .select({ execution: executions, tasks: wireTasksJson })
        .from(executions)
        .where(eq(executions.executionId, executionId))
      return row && toExecution(row.execution, row.tasks)
    },

    async list({ limit, offset, status, workflow_id, filter }) {
      if (workflow_id !== undefined && !isUuid(workflow_id)) return { items: [], total: 0 }
      const conditions: SQL[] = []
      if (status !== undefined) conditions.push(eq(executions.status, status))
      if (workflow_id !== undefined) conditions.push(eq(executions.workflowId, workflow_id))
      if (filter) {
        const pattern = containing(filter)
        conditions.push(or(ilike(sql`${executions.executionId}::text`, pattern), ilike(sql`${executions.metadata}::text`, pattern))!)
      }
      const query = db.select().from(executions).orderBy(desc(executions.createdAt), desc(executions.executionId)).$dynamic()
      const { rows, total } = await paged(db, executions, query, and(...conditions), { limit, offset })
      return { items: rows.map((r) => toExecution(r, [])), total }
    },

    async activeChildren(parentId) {
      if (!isUuid(parentId)) return []
      const rows = await db
        .select({ id: executions.executionId })
        .from(executions)
        .where(and(sql`${executions.parent}->>'execution_id' = ${parentId}`, inArray(executions.status, ['pending', 'running', 'paused'])))
      return rows.map((r) => r.id)
    },

    async childOf({ execution_id, task_id, index }) {
      if (!isUuid(execution_id)) return undefined
      const [row] = await db
        .select({ id: executions.executionId })
        .from(executions)
        .where(
          and(
            sql`${executions.parent}->>'execution_id' = ${execution_id}`,
            sql`${executions.parent}->>'task_id' = ${task_id}`,
            sql`${executions.parent}->>'index' = ${String(index)}`,
          ),
        )
        .orderBy(desc(executions.createdAt))
        .limit(1)
      return row?.id
    },

    async countActive(workflowId) {
      if (!isUuid(workflowId)) return 0
      const [row] = await db
        .select({ n: count() })
        .from(executions)
        .where(and(eq(executions.workflowId, workflowId), notInArray(executions.status, [...TERMINAL_EXECUTION_STATUSES])))
      return row?.n ?? 0
    },

    async claimRecoverable(owner) {
      return db.transaction(async (tx) => claimRecoverable(tx, owner))
    },

    async deleteEndedBefore(before) {
      // Task rows, events, timers, state and checkpoints go with each execution (on delete cascade).
      const deleted = await db
        .delete(executions)
        .where(and(inArray(executions.status, [...TERMINAL_EXECUTION_STATUSES]), sql`${executions.endTime} < ${before}::timestamptz`))
        .returning({ id: executions.executionId })
      return deleted.length
    },
  }
}
