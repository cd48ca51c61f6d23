import type { InputField, InputSpec, TaskDefinition } from './definition.js'
import type { ErrorInfo } from './events.js'
import type { Schedule } from './schedule.js'
import type { ExecutionStatus, TaskStatus } from './status.js'

/** Resources as they are returned by the facade and on the wire (API.md): snake_case, ids named by kind. */

export type Workflow = {
  workflow_id: string
  name: string
  description: string
  version: number
  metadata: Record<string, unknown>
  input: InputSpec
  output: Record<string, unknown>
  tasks: TaskDefinition[]
  max_concurrency: number
  timeout: number | null
  fail_fast: boolean
  /** Cron schedules (API.md "Schedules"), defaults applied; absent when the workflow has none. */
  schedules?: Schedule[]
  created_at: string
  updated_at: string
}

export type Template = {
  template_id: string
  name: string
  description: string
  workflow_definition_id: string
  parameters: Record<string, InputField>
  /** The template's own version: 1, then + 1 per `PUT /api/templates/{id}`. */
  version: number
  /** The version of the workflow it instantiates. */
  workflow_version: number
  created_at: string
}

export type TaskExecution = {
  task_id: string
  status: TaskStatus
  start_time: string | null
  end_time: string | null
  input: unknown
  output: unknown
  error: ErrorInfo | null
  retries: number
  attempts: number
  /** A fan-out task's progress (API.md "Fan-out"); absent for other tasks. */
  items?: ItemCounts
  /** The execution a `harmonia.run_workflow` task started (API.md "Sub-workflows"); absent for other tasks. */
  child_execution_id?: string
}

/** How far a fan-out task is: elements in all, completed, failed (after their retries), running now. */
export type ItemCounts = { total: number; completed: number; failed: number; running: number }

/** The execution and task that started a sub-workflow. */
/** The task that started a sub-workflow; `index` when it was one element of a fan-out. */
export type ParentLink = { execution_id: string; task_id: string; index?: number }

export type Execution = {
  execution_id: string
  workflow_id: string
  workflow_version: number
  status: ExecutionStatus
  start_time: string | null
  end_time: string | null
  input: Record<string, unknown>
  output: unknown
  error: ErrorInfo | null
  metadata: Record<string, unknown>
  restored_from: string | null
  /** The execution this one reruns (`POST /api/executions/{id}/rerun`), or null. */
  rerun_of: string | null
  /** Set when a `harmonia.run_workflow` task started this execution. */
  parent: ParentLink | null
  task_executions: Record<string, TaskExecution>
}

export type ExecutionSummary = Omit<Execution, 'task_executions'>

/** A consistent copy of an execution's task statuses and state (API.md "State and checkpoints"). */
export type Checkpoint = {
  checkpoint_id: string
  execution_id: string
  created_at: string
  workflow_status: ExecutionStatus
  task_statuses: Record<string, TaskStatus>
  completed_tasks: string[]
  state_data: Record<string, unknown>
}

/** An execution's saved state (`GET/PUT /api/state/{execution_id}`). */
export type StateRecord = { execution_id: string; state: Record<string, unknown>; updated_at: string }

/** A completed task whose result a new execution keeps (a restored checkpoint, a rerun): it does not run again. */
export type CarriedTask = { status: 'completed'; output: unknown; attempts: number }

/** One page of a list (API.md "Lists"). */
export type Page<T> = { items: T[]; total: number; limit: number; offset: number }

export type ListQuery = { limit?: number; offset?: number; filter?: string }
export type ExecutionListQuery = ListQuery & { status?: ExecutionStatus; workflow_id?: string }
