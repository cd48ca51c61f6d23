/**
 * The one vocabulary of statuses (DESIGN.md "One source of truth for statuses").
 * Machine state names, the Postgres enums, valibot picklists, TypeScript types and the wire all derive from these tuples.
 */
export const EXECUTION_STATUSES = ['pending', 'running', 'paused', 'completed', 'failed', 'canceled'] as const
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number]

export const TASK_STATUSES = ['pending', 'running', 'retrying', 'paused', 'completed', 'failed', 'skipped', 'canceled'] as const
export type TaskStatus = (typeof TASK_STATUSES)[number]

export const TERMINAL_EXECUTION_STATUSES = ['completed', 'failed', 'canceled'] as const satisfies readonly ExecutionStatus[]
export type TerminalExecutionStatus = (typeof TERMINAL_EXECUTION_STATUSES)[number]

export const TERMINAL_TASK_STATUSES = ['completed', 'failed', 'skipped', 'canceled'] as const satisfies readonly TaskStatus[]
export type TerminalTaskStatus = (typeof TERMINAL_TASK_STATUSES)[number]

/** True when an execution in this status can no longer change. */
export function isTerminalExecutionStatus(status: ExecutionStatus): status is TerminalExecutionStatus {
  return (TERMINAL_EXECUTION_STATUSES as readonly string[]).includes(status)
}

/** True when a task in this status is settled for good. */
export function isTerminalTaskStatus(status: TaskStatus): status is TerminalTaskStatus {
  return (TERMINAL_TASK_STATUSES as readonly string[]).includes(status)
}

/** Why a task was skipped: its condition was false (dependents run), or an upstream task did not complete (they skip too). */
export const SKIP_REASONS = ['condition', 'upstream'] as const
export type SkipReason = (typeof SKIP_REASONS)[number]
