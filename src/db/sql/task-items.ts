import { and, asc, eq } from 'drizzle-orm'
import { isUuid } from '../../model/ids.js'
import type { Database } from '../client.js'
import { taskItems } from '../schema/index.js'
import type { ItemRow, Store } from '../store.js'

/** The elements of a fan-out task. Written only by the commit (commit.ts), one upserted row per element transition. */
export function taskItemQueries(db: Database): Store['taskItems'] {
  return {
    async list(executionId, taskId) {
      if (!isUuid(executionId)) return []
      const rows = await db
        .select()
        .from(taskItems)
        .where(and(eq(taskItems.executionId, executionId), eq(taskItems.taskId, taskId)))
        .orderBy(asc(taskItems.index))
      return rows.map(
        (r): ItemRow => ({
          index: r.index,
          status: r.status as ItemRow['status'],
          attempts: r.attempts,
          output: r.output ?? null,
          error: r.error ?? null,
          start_time: r.startTime?.toISOString() ?? null,
          end_time: r.endTime?.toISOString() ?? null,
        }),
      )
    },
  }
}
