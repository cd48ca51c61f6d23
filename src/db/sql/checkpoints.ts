import { asc, eq } from 'drizzle-orm'
import { isUuid } from '../../model/ids.js'
import type { Database } from '../client.js'
import { checkpoints } from '../schema/index.js'
import type { Store } from '../store.js'
import { paged } from './helpers.js'
import { checkpointRow, toCheckpoint } from './mappers.js'

/** Every column but `outputs` (a restore's payload, possibly large): what a list answers. */
const listColumns = {
  checkpointId: checkpoints.checkpointId,
  executionId: checkpoints.executionId,
  createdAt: checkpoints.createdAt,
  workflowStatus: checkpoints.workflowStatus,
  taskStatuses: checkpoints.taskStatuses,
  completedTasks: checkpoints.completedTasks,
  stateData: checkpoints.stateData,
}

/** Checkpoints: written by the facade's createCheckpoint (after the live execution is flushed); never changed. */
export function checkpointQueries(db: Database): Store['checkpoints'] {
  return {
    async insert(record) {
      await db.insert(checkpoints).values(checkpointRow(record))
    },

    async get(checkpointId) {
      if (!isUuid(checkpointId)) return undefined
      const [row] = await db.select().from(checkpoints).where(eq(checkpoints.checkpointId, checkpointId))
      return row && { ...toCheckpoint(row), outputs: row.outputs }
    },

    async list({ execution_id, limit, offset }) {
      if (execution_id !== undefined && !isUuid(execution_id)) return { items: [], total: 0 }
      const where = execution_id === undefined ? undefined : eq(checkpoints.executionId, execution_id)
      const query = db.select(listColumns).from(checkpoints).orderBy(asc(checkpoints.createdAt), asc(checkpoints.checkpointId)).$dynamic()
      const { rows, total } = await paged(db, checkpoints, query, where, { limit, offset })
      return { items: rows.map(toCheckpoint), total }
    },
  }
}
