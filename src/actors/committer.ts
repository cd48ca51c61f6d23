import { StaleWriteError } from '../errors.js'
import type { CommitBatch, Store } from '../db/store.js'
import type { Logger } from '../logger.js'
import { EVENTS_CHANNEL, hintPayload, withoutExecutions } from './commit-hints.js'

/**
 * How the journal sends one batch to the store: retried a few times while the database cannot be reached (a commit
 * that failed wrote nothing), fenced per execution (a stale one is taken out and the rest written), and with the
 * commit hint for other nodes when some share the store now.
 */
export function createCommitter(deps: {
  store: Store
  logger: Logger
  workflowOf: (executionId: string) => string | undefined
  /** Whether other nodes listen now (a NOTIFY costs every commit a lock on the notification queue: none alone). */
  hints: () => boolean
}) {
  async function commitWithRetry(batch: CommitBatch): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await deps.store.commit(batch)
        return
      } catch (error) {
        if (error instanceof StaleWriteError || attempt >= 5) throw error
        deps.logger.warn('commit failed; retrying', { attempt, error: String(error) })
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt))
      }
    }
  }

  return {
    /**
     * Commits the batch; an execution whose epoch moved on (another node claimed it) is added to `stale`, taken out,
     * and the rest is written, so one lost execution does not stop the others of its tick. Returns the batch as
     * committed.
     */
    async commit(batch: CommitBatch, stale: Set<string>): Promise<CommitBatch> {
      for (;;) {
        if (isEmpty(batch)) return batch
        const payload = deps.hints() ? hintPayload(batch.events, deps.workflowOf) : undefined
        const sent = payload === undefined ? batch : { ...batch, notify: { channel: EVENTS_CHANNEL, payload } }
        try {
          await commitWithRetry(sent)
          return batch
        } catch (error) {
          if (!(error instanceof StaleWriteError) || stale.has(error.executionId)) throw error
          stale.add(error.executionId)
          deps.logger.warn('stale write refused: another node owns the execution now; it stops here', {
            execution_id: error.executionId,
          })
          batch = withoutExecutions(batch, stale)
        }
      }
    },
  }
}

const isEmpty = (batch: CommitBatch) =>
  batch.creates.length + batch.executions.length + batch.tasks.length + batch.events.length === 0 &&
  batch.timersSet.length + batch.timersCleared.length + batch.states.length + (batch.items?.length ?? 0) === 0 &&
  (batch.signals?.length ?? 0) + (batch.itemCounts?.length ?? 0) === 0
