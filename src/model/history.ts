import type { ExecutionEvent } from './events.js'
import type { Checkpoint, Execution } from './resources.js'
import { TASK_STATUSES, type TaskStatus } from './status.js'

/** Figures of one execution, computed from its rows (the seed's ExecutionMetrics). */
export type ExecutionMetrics = {
  duration_ms: number | null
  total_tasks: number
  task_counts: Record<TaskStatus, number>
  /** Retries made across all tasks. */
  retries: number
  /** Per task that started: milliseconds from its first start to its end (null while it runs). */
  task_durations: Record<string, number | null>
}

export type ExecutionHistory = { execution_id: string; events: ExecutionEvent[]; checkpoints: Checkpoint[]; metrics: ExecutionMetrics }

const ms = (from: string | null, to: string | null): number | null =>
  from === null || to === null ? null : Date.parse(to) - Date.parse(from)

/** Metrics of an execution; `now` stands in for the end of one still running. */
export function metricsOf(execution: Execution, now: number): ExecutionMetrics {
  const tasks = Object.values(execution.task_executions)
  const task_counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>
  const task_durations: Record<string, number | null> = {}
  let retries = 0
  for (const t of tasks) {
    task_counts[t.status]++
    retries += t.retries
    if (t.start_time !== null) task_durations[t.task_id] = ms(t.start_time, t.end_time)
  }
  const end = execution.end_time ?? (execution.start_time === null ? null : new Date(now).toISOString())
  return { duration_ms: ms(execution.start_time, end), total_tasks: tasks.length, task_counts, retries, task_durations }
}
