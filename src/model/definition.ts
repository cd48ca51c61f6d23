/**
 * The workflow definition after validation (API.md "Workflows"), in wire shape: snake_case fields,
 * `tasks` always a list in definition order. What a user sent for `retry` is kept as sent; the engine
 * reads the normalised policy through `retryPolicyOf`.
 */
import type { Schedule } from './schedule.js'

export const INPUT_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array'] as const
export type InputType = (typeof INPUT_TYPES)[number]

/** One accepted execution input (API.md: `input` of a workflow). */
export type InputField = { type?: InputType; required?: boolean; default?: unknown; description?: string }

/** A workflow's accepted inputs: fields by name, or a JSON Schema object (model/json-schema-input.ts). */
export type InputSpec = Record<string, InputField> | Record<string, unknown>

/** The retry policy object a user may send; every field optional. Intervals in seconds. */
export type RetryPolicyInput = {
  max_attempts?: number
  initial_interval?: number
  backoff_coefficient?: number
  max_interval?: number
  /** true: full jitter (delay drawn uniformly from [0, d]); false or 0: none; a fraction f in (0,1]: drawn from [d·(1−f), d]. */
  jitter?: boolean | number
  non_retryable_errors?: string[]
}

/** The retry policy the engine runs with: every field set. */
export type RetryPolicy = Required<RetryPolicyInput>

export type TaskDefinition = {
  id: string
  name?: string
  component: string
  action: string
  input: unknown
  depends_on: string[]
  /** Seconds per attempt. */
  timeout?: number
  /** A number of retries, or a policy. Absent: no retries. */
  retry?: number | RetryPolicyInput
  /** A condition expression: `${...}` or a bare CEL expression. */
  when?: string
  /** What the task produces, as the seed's data model describes it: kept and returned as given (not evaluated). */
  output?: Record<string, unknown>
  metadata: Record<string, unknown>
  /** Fan-out (API.md "Control flow"): `${expression}` yielding a list, or a list; the action runs once per element. */
  for_each?: string | unknown[]
  /** Elements in flight at once (default: the workflow's max_concurrency). */
  for_each_concurrency?: number
  /** An element that fails puts `{"error": {...}}` in its place instead of failing the task. */
  continue_on_error?: boolean
}

export type WorkflowDefinition = {
  name: string
  description: string
  metadata: Record<string, unknown>
  /** Accepted inputs: `{name: {type, required, default}}`, or a JSON Schema (`"type": "object"` or `"$schema"`). */
  input: InputSpec
  output: Record<string, unknown>
  tasks: TaskDefinition[]
  max_concurrency: number
  /** Seconds for the whole execution. */
  timeout?: number
  fail_fast: boolean
  /** Cron schedules (API.md "Schedules"); absent when there are none. */
  schedules?: Schedule[]
}

export const DEFAULT_MAX_CONCURRENCY = 10
export const DEFAULT_MAX_TASKS = 10_000
/** The most elements one fan-out runs (more: the task fails with `fan_out_too_large`). */
export const MAX_FAN_OUT = 10_000

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  max_attempts: 1,
  initial_interval: 1,
  backoff_coefficient: 2,
  max_interval: 60,
  jitter: true,
  non_retryable_errors: [],
}

/** The policy a task runs with: `retry: 3` means three retries, so four attempts. */
export function retryPolicyOf(task: Pick<TaskDefinition, 'retry'>): RetryPolicy {
  const retry = task.retry
  if (retry === undefined) return DEFAULT_RETRY_POLICY
  if (typeof retry === 'number') return { ...DEFAULT_RETRY_POLICY, max_attempts: retry + 1 }
  return { ...DEFAULT_RETRY_POLICY, max_attempts: retry.max_attempts ?? DEFAULT_RETRY_POLICY.max_attempts, ...stripUndefined(retry) }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
