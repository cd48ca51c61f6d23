import { evaluateValue, ExpressionEvaluationError, type Scope } from '../expressions/index.js'
import { MAX_FAN_OUT, type RetryPolicy, type TaskDefinition, type WorkflowDefinition } from '../model/definition.js'
import type { CompiledTask } from '../model/compile.js'

/**
 * How a fan-out task runs its elements (API.md "Control flow"): the task actor makes one attempt that runs every
 * element; `retry` and `timeout` apply to each element, which counts its own attempts from 1.
 */
export type FanOutSpec = {
  concurrency: number
  continueOnError: boolean
  policy: RetryPolicy
  /** Per element attempt; absent: none. */
  timeoutMs?: number
}

/** The fan-out spec of a task, or undefined when it does not fan out. */
export function fanOutSpecOf(
  definition: WorkflowDefinition,
  task: TaskDefinition,
  policy: RetryPolicy,
  timeoutMs: number | undefined,
): FanOutSpec | undefined {
  if (task.for_each === undefined) return undefined
  const spec: FanOutSpec = {
    concurrency: task.for_each_concurrency ?? definition.max_concurrency,
    continueOnError: task.continue_on_error === true,
    policy,
  }
  if (timeoutMs !== undefined) spec.timeoutMs = timeoutMs
  return spec
}

/**
 * The input of each element, in order: `for_each` evaluated once, then the task's input once per element with
 * `item` and `index`. Throws ExpressionEvaluationError (the task fails before it starts) when `for_each` is not a list
 * or is longer than MAX_FAN_OUT, or an element's input cannot be evaluated.
 */
export function elementInputs(compiled: CompiledTask, scope: Scope): unknown[] {
  const list = evaluateValue(compiled.forEach!, scope)
  const source = compiled.forEach!.constant ? 'for_each' : compiled.forEach!.source
  if (!Array.isArray(list)) {
    const got = list === null ? 'null' : typeof list
    throw new ExpressionEvaluationError(`for_each must yield a list, got ${got}`, { expression: source, code: 'for_each_not_a_list' })
  }
  if (list.length > MAX_FAN_OUT) {
    throw new ExpressionEvaluationError(`for_each yielded ${list.length} elements; a fan-out runs at most ${MAX_FAN_OUT}`, {
      expression: source,
      code: 'fan_out_too_large',
    })
  }
  const input = compiled.input
  if (input.constant) return list.map(() => input.value)
  return list.map((item: unknown, index) => evaluateValue(input, { ...scope, item, index }))
}
