import { compileCondition, compileValue, type CompiledValue } from '../expressions/index.js'
import type { WorkflowDefinition } from './definition.js'

/** A task's compiled expressions, index-aligned with `definition.tasks`. */
export type CompiledTask = { input: CompiledValue; when?: CompiledValue; forEach?: CompiledValue }

/** A definition with every expression compiled, so the engine never parses an expression twice. */
export type CompiledWorkflow = { definition: WorkflowDefinition; tasks: CompiledTask[]; output: CompiledValue }

const compiledByDefinition = new WeakMap<WorkflowDefinition, CompiledWorkflow>()

/**
 * Compiles the expressions of a definition that is already valid (fresh from parseWorkflowDefinition, or loaded from
 * storage): no graph or reference checks run here. Memoised per definition object; parseWorkflowDefinition seeds the
 * memo with what it compiled while validating, so creating then running a workflow parses each expression once.
 * Throws ExpressionSyntaxError if an expression does not compile (only possible for a definition that skipped validation).
 */
export function compileWorkflow(definition: WorkflowDefinition): CompiledWorkflow {
  const cached = compiledByDefinition.get(definition)
  if (cached) return cached
  const compiled: CompiledWorkflow = {
    definition,
    tasks: definition.tasks.map((task) => {
      const compiled: CompiledTask = { input: compileValue(task.input) }
      if (task.when !== undefined) compiled.when = compileCondition(task.when)
      if (task.for_each !== undefined) compiled.forEach = compileValue(task.for_each)
      return compiled
    }),
    output: compileValue(definition.output),
  }
  compiledByDefinition.set(definition, compiled)
  return compiled
}

/** Records what the validator compiled for `definition` (internal to src/model). */
export function rememberCompiled(compiled: CompiledWorkflow): void {
  compiledByDefinition.set(compiled.definition, compiled)
}
