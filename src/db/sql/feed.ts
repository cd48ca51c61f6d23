import { and, asc, gt, or, sql } from 'drizzle-orm'
import type { Database } from '../client.js'
import { executionEvents, executions } from '../schema/index.js'
import type { ClusterStore } from '../store.js'
import { UNFINISHED } from './lease.js'
import { toEvent } from './mappers.js'

/** What the event feed of another node reads (services/event-feed.ts): where executions stand, and their new events. */
export function feedQueries(db: Database): Pick<ClusterStore, 'heads' | 'eventsAfter'> {
  return {
    async heads({ ids, recentSeconds = 30 }) {
      const where =
        ids === undefined
          ? or(UNFINISHED, gt(executions.endTime, sql`now() - make_interval(secs => ${recentSeconds})`))
          : sql`${executions.executionId} = ANY(${sql.param(ids)}::uuid[])`
      if (ids !== undefined && ids.length === 0) return []
      const rows = await db
        .select({ execution_id: executions.executionId, workflow_id: executions.workflowId, last_seq: executions.lastSeq })
        .from(executions)
        .where(where)
      return rows
    },

    async eventsAfter(cursors) {
      if (cursors.length === 0) return []
      const recordset = sql`json_to_recordset(${JSON.stringify(cursors)}::text::json) AS v(execution_id uuid, after int)`
      const rows = await db
        .select()
        .from(executionEvents)
        .where(
          and(
            sql`${executionEvents.executionId} = ANY(${sql.param(cursors.map((c) => c.execution_id))}::uuid[])`,
            gt(executionEvents.seq, sql`(SELECT v.after FROM ${recordset} WHERE v.execution_id = ${executionEvents.executionId})`),
          ),
        )
        .orderBy(asc(executionEvents.executionId), asc(executionEvents.seq))
      return rows.map(toEvent)
    },
  }
}
