import { compileWorkflow, type CompiledWorkflow } from '../model/compile.js'
import { retryPolicyOf, type RetryPolicy, type WorkflowDefinition } from '../model/definition.js'
import { fanOutSpecOf, type FanOutSpec } from './fan-out.js'

/**
 * The static, derived shape of a workflow definition that the supervisor schedules from: indices instead of ids,
 * dependents lists, compiled expressions and normalised policies. Computed once per definition object and memoised
 * (a pure cache: the same definition always yields the same plan), so the machine's context holds only the JSON
 * definition and stays serialisable.
 */
export type Plan = {
  ids: string[]
  index: Map<string, number>
  deps: number[][]
  dependents: number[][]
  policies: RetryPolicy[]
  timeoutsMs: Array<number | undefined>
  /** Per task: how it fans out, or undefined. */
  fanOuts: Array<FanOutSpec | undefined>
  compiled: CompiledWorkflow
}

const plans = new WeakMap<WorkflowDefinition, Plan>()

/** The plan of a validated definition (memoised per definition object). */
export function planOf(definition: WorkflowDefinition): Plan {
  const cached = plans.get(definition)
  if (cached) return cached
  const ids = definition.tasks.map((t) => t.id)
  const index = new Map(ids.map((id, i) => [id, i] as const))
  const deps = definition.tasks.map((t) => t.depends_on.map((d) => index.get(d)!))
  const dependents: number[][] = ids.map(() => [])
  deps.forEach((list, i) => list.forEach((d) => dependents[d]!.push(i)))
  const policies = definition.tasks.map((t) => retryPolicyOf(t))
  const timeoutsMs = definition.tasks.map((t) => (t.timeout === undefined ? undefined : Math.round(t.timeout * 1000)))
  const plan: Plan = {
    ids,
    index,
    deps,
    dependents,
    policies,
    timeoutsMs,
    fanOuts: definition.tasks.map((t, i) => fanOutSpecOf(definition, t, policies[i]!, timeoutsMs[i])),
    compiled: compileWorkflow(definition),
  }
  plans.set(definition, plan)
  return plan
}
