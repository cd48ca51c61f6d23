import { and, asc, eq, gt } from 'drizzle-orm'
import { isUuid } from '../../model/ids.js'
import type { Database } from '../client.js'
import { executionEvents } from '../schema/index.js'
import type { Store } from '../store.js'
import { toEvent } from './mappers.js'

/** The event log, read in seq order. Written only by the commit (commit.ts); append-only, never updated. */
export function eventQueries(db: Database): Store['events'] {
  return {
    async list(executionId, after = 0) {
      if (!isUuid(executionId)) return []
      const rows = await db
        .select()
        .from(executionEvents)
        .where(and(eq(executionEvents.executionId, executionId), gt(executionEvents.seq, after)))
        .orderBy(asc(executionEvents.seq))
      return rows.map(toEvent)
    },
  }
}
