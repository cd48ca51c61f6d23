import { eq } from 'drizzle-orm'
import { isUuid } from '../../model/ids.js'
import type { Database } from '../client.js'
import type { SignalDoc } from '../../model/signals.js'
import { executionSignals, executionState } from '../schema/index.js'
import type { Store } from '../store.js'
import { batchOf, commitStatement } from './commit.js'
import { toStateRecord } from './mappers.js'

/**
 * An execution's saved state. A live execution saves through the journal's commit; `put` is for one not live in this
 * process, and goes through the same statement (an upsert, safe to replay).
 */
/** An execution's signals as committed (a live execution's journal holds the newest). */
export function signalQueries(db: Database): Store['signals'] {
  return {
    async get(executionId) {
      if (!isUuid(executionId)) return undefined
      const [row] = await db.select().from(executionSignals).where(eq(executionSignals.executionId, executionId))
      return row?.signals as SignalDoc | undefined
    },
  }
}

export function stateQueries(db: Database): Store['state'] {
  return {
    async get(executionId) {
      if (!isUuid(executionId)) return undefined
      const [row] = await db.select().from(executionState).where(eq(executionState.executionId, executionId))
      return row && toStateRecord(row)
    },

    async put(record) {
      await commitStatement(db, batchOf({ states: [record] }))
    },
  }
}
