import type { Execution } from '../model/resources.js'

const KEPT = 1000

/**
 * The final state of executions that ended in this process, most recent last: a finished execution no longer changes
 * (only retention deletes it), so reading the result of one that just ended needs no round trip.
 */
export function createFinishedCache() {
  const finished = new Map<string, Execution>()
  return {
    remember: (execution: Execution): void => {
      finished.set(execution.execution_id, execution)
      if (finished.size > KEPT) finished.delete(finished.keys().next().value!)
    },
    /** A copy of the execution if it ended here recently. */
    get(executionId: string): Execution | undefined {
      const found = finished.get(executionId)
      return found && structuredClone(found)
    },
    clear(): void {
      finished.clear()
    },
  }
}
export type FinishedCache = ReturnType<typeof createFinishedCache>
