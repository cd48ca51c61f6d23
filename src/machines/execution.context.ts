import type { Scope, TaskView } from '../expressions/index.js'
import type { WorkflowDefinition } from '../model/definition.js'
import type { ErrorInfo } from '../model/events.js'
import type { CarriedTask } from '../model/resources.js'
import type { ExecutionOutput } from './events.js'
import type { Ledger } from './ledger.js'
import { planOf, type Plan } from './plan.js'
import type { TaskInput } from './task.machine.js'
import { DEFAULT_RETRY_POLICY } from '../model/definition.js'

const SINGLE_ATTEMPT = { ...DEFAULT_RETRY_POLICY, max_attempts: 1 }

/** What starts an execution actor. */
export type ExecutionInput = {
  executionId: string
  workflowId: string
  workflowVersion: number
  definition: WorkflowDefinition
  input: Record<string, unknown>
  state?: Record<string, unknown>
  /** PRNG seed from the runtime's random source; task jitter seeds derive from it. */
  seed: number
  /** Tasks whose results carry over (a restored checkpoint, a rerun of a failed execution). */
  carried?: Record<string, CarriedTask>
}

export type ExecutionContext = {
  executionId: string
  workflowId: string
  workflowVersion: number
  definition: WorkflowDefinition
  input: Record<string, unknown>
  state: Record<string, unknown>
  ledger: Ledger
  output: unknown
  error: ErrorInfo | null
  outcome: ExecutionOutput['status'] | null
}

/** The scope expressions see: `tasks` is a lookup so that evaluation never touches unreferenced tasks. */
export function scopeOf(context: ExecutionContext, plan: Plan = planOf(context.definition)): Scope {
  return {
    input: context.input,
    state: context.state,
    execution: { id: context.executionId, execution_id: context.executionId, workflow_id: context.workflowId },
    workflow: { id: context.workflowId, workflow_id: context.workflowId, name: context.definition.name, version: context.workflowVersion },
    tasks: (taskId: string): TaskView | undefined => {
      const i = plan.index.get(taskId)
      const entry = i === undefined ? undefined : context.ledger.tasks[i]
      return entry && { output: entry.output ?? null, status: entry.status, error: entry.error }
    },
  }
}

/**
 * The input of task `i`'s actor: the one place it is built, for a first start (the machine's `schedule`) and for a
 * task re-hosted after a restart (the runtime's recovery). `attemptsMade` counts the attempts before this actor's
 * first one; `input` is the task input resolved from expressions when the task first started.
 */
export function taskInputOf(context: ExecutionContext, i: number, input: unknown, attemptsMade: number, seed: number): TaskInput {
  const plan = planOf(context.definition)
  const task = context.definition.tasks[i]!
  const fanOut = plan.fanOuts[i]
  const base = {
    executionId: context.executionId,
    workflowId: context.workflowId,
    taskId: task.id,
    component: task.component,
    action: task.action,
    input,
    seed,
    attempt: attemptsMade,
  }
  // A fan-out is one attempt of the task that runs every element; retry and timeout apply to each element.
  if (fanOut) return { ...base, policy: SINGLE_ATTEMPT, timeoutMs: undefined, fanOut }
  return { ...base, policy: plan.policies[i]!, timeoutMs: plan.timeoutsMs[i] }
}
