/**
 * Request shapes of the wire contract (API.md). Response shapes are the server's own types, imported type-only so the
 * client carries no runtime dependency on the engine.
 */
import type { InputField, RetryPolicyInput } from '../model/definition.js'
import type { ExecutionStatus } from '../model/status.js'
import type { EventType } from '../model/events.js'

export type { InputField, RetryPolicyInput }
export type { Workflow, Execution, ExecutionSummary, TaskExecution, Template, Page, Checkpoint, StateRecord } from '../model/resources.js'
export type { ExecutionEvent, EventType, ErrorInfo, ExecutionStatus, TaskStatus } from '../model/events.js'
export type { ExecutionHistory, ExecutionMetrics } from '../model/history.js'
export type { SignalAnswer, SignalSummary } from '../model/signals.js'
export type { Schedule, ScheduleInfo, CatchUp } from '../model/schedule.js'
export type { Subscription } from '../model/subscriptions.js'
export type { ComponentSource, ComponentHealth } from '../model/components.js'

/** A task as a client sends it: `id`, `component` and `action` are required. */
export type TaskRequest = {
  id: string
  name?: string
  component: string
  action: string
  /** Any JSON; `${...}` expressions allowed in strings. */
  input?: unknown
  depends_on?: string[]
  /** Seconds per attempt. */
  timeout?: number
  /** A number of retries, or a policy (intervals in seconds). */
  retry?: number | RetryPolicyInput
  /** A condition expression. */
  when?: string
  /** What the task produces (descriptive, returned as given). */
  output?: Record<string, unknown>
  metadata?: Record<string, unknown>
}

/** The body of `POST /api/workflows` and `PUT /api/workflows/{id}`. */
export type WorkflowRequest = {
  name: string
  description?: string
  /** Accepted and ignored: the server numbers versions. */
  version?: string | number
  metadata?: Record<string, unknown>
  input?: Record<string, InputField>
  output?: Record<string, unknown>
  /** A list, or a map keyed by task id (where `id` may be left out). */
  tasks: TaskRequest[] | Record<string, Omit<TaskRequest, 'id'> & { id?: string }>
  max_concurrency?: number
  /** Seconds for the whole execution. */
  timeout?: number
  fail_fast?: boolean
  /** Cron schedules: five fields, or six with seconds first (API.md "Schedules"). */
  schedules?: Array<{
    cron: string
    timezone?: string
    input?: Record<string, unknown>
    catch_up?: 'skip' | 'once' | 'all'
    enabled?: boolean
  }>
}

/** The body of `POST /api/executions`. */
export type ExecuteWorkflowRequest = {
  workflow_id: string
  input?: Record<string, unknown>
  /** Run this version instead of the latest. */
  version?: number
  metadata?: Record<string, unknown>
}

/** The body of `POST /api/templates`. */
export type TemplateRequest = {
  name: string
  workflow_definition_id: string
  parameters?: Record<string, InputField>
  description?: string
}

/** The body of `POST /api/templates/{id}/instantiate`. */
export type InstantiateTemplateRequest = { parameter_values?: Record<string, unknown>; name?: string; version?: number }

export type ListQuery = { limit?: number; offset?: number; filter?: string }
export type ExecutionListQuery = ListQuery & { status?: ExecutionStatus; workflow_id?: string }
export type CheckpointListQuery = { execution_id?: string; limit?: number; offset?: number }

/** `POST /api/subscriptions`: every event of every workflow unless `types` / `workflow_id` narrow it. */
export type SubscriptionRequest = { url: string; types?: EventType[]; workflow_id?: string; secret?: string }

/** A component as `GET /api/components/{name}` answers it (API.md "Remote components"): never its secret, only `has_secret`. */
export type { ComponentDescription as Component } from '../model/components.js'

/** The body of `POST /api/components` (and of `PUT /api/components/{name}`, where `name` may be left out). */
export type ComponentRequest = {
  name: string
  /** Base URL: an action is called at `{url}/api/actions/{action}`. */
  url: string
  /** Left out: any action. */
  actions?: string[]
  /** Signs calls and authenticates callbacks; never returned. */
  secret?: string
  /** Seconds one call may take. */
  timeout?: number
  description?: string
  metadata?: Record<string, unknown>
}
