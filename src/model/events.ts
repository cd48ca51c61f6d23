import type { ExecutionStatus, TaskStatus } from './status.js'

/** Event names of API.md "Events", declared once. */
export const EVENT_TYPES = [
  'workflow_started',
  'task_started',
  'task_completed',
  'task_failed',
  'task_retrying',
  'task_skipped',
  'task_canceled',
  'workflow_paused',
  'workflow_resumed',
  'workflow_completed',
  'workflow_failed',
  'workflow_canceled',
  'checkpoint_created',
  'state_saved',
  'signal_received',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** The final status an ending event announces, for the task or the execution it names (declared once for observers). */
export const TASK_ENDED_AS: Readonly<Partial<Record<EventType, TaskStatus>>> = {
  task_completed: 'completed',
  task_failed: 'failed',
  task_canceled: 'canceled',
  task_skipped: 'skipped',
}
export const EXECUTION_ENDED_AS: Readonly<Partial<Record<EventType, ExecutionStatus>>> = {
  workflow_completed: 'completed',
  workflow_failed: 'failed',
  workflow_canceled: 'canceled',
}

/** A failure as it is stored and sent: API.md `error` of a task or execution. */
export type ErrorInfo = { message: string; code?: string; retryable: boolean }

/** An event on the wire and in the history (API.md "Events"). */
export type ExecutionEvent = {
  seq: number
  type: EventType
  execution_id: string
  task_id?: string
  timestamp: string
  data: Record<string, unknown>
}

export type { ExecutionStatus, TaskStatus }
