import type { Execution } from '../model/resources.js'

/** At most this many executions… */
const KEPT = 1000
/** …and this many task rows among them: a 10,000-task execution weighs what 10,000 one-task executions do. */
const KEPT_TASKS = 50_000

/**
 * The final state of executions that ended in this process, most recent last: a finished execution no longer changes
 * (only retention deletes it), so reading the result of one that just ended needs no round trip. Bounded by count and
 * by task rows (oldest out first).
 */
export function createFinishedCache() {
  const finished = new Map<string, { execution: Execution; weight: number }>()
  let weight = 0
  const evictOldest = () => {
    const [id, oldest] = finished.entries().next().value!
    finished.delete(id)
    weight -= oldest.weight
  }
  return {
    remember: (execution: Execution): void => {
      const previous = finished.get(execution.execution_id)
      if (previous) {
        finished.delete(execution.execution_id)
        weight -= previous.weight
      }
      const entry = { execution, weight: 1 + Object.keys(execution.task_executions).length }
      finished.set(execution.execution_id, entry)
      weight += entry.weight
      while (finished.size > KEPT || (weight > KEPT_TASKS && finished.size > 1)) evictOldest()
    },
    /** A copy of the execution if it ended here recently. */
    get(executionId: string): Execution | undefined {
      const found = finished.get(executionId)
      return found && structuredClone(found.execution)
    },
    clear(): void {
      finished.clear()
      weight = 0
    },
  }
}
export type FinishedCache = ReturnType<typeof createFinishedCache>
