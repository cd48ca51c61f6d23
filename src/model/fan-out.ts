/**
 * Fan-out (API.md "Control flow"): what a task's `for_each` may be, and where `item` and `index` may be read.
 * `for_each` is one `${expression}` yielding a list, or a literal list; `item` and `index` are the element and its
 * position, readable only in the input of a task that fans out (its condition and `for_each` run once, before any element).
 */
import type { FieldError } from '../errors.js'
import { compileValue, ExpressionSyntaxError, type CompiledValue } from '../expressions/index.js'
import { joinPath } from '../json.js'

/** The roots that exist only inside one element of a fan-out. */
const ELEMENT_ROOTS = ['item', 'index'] as const

/** True when the compiled value reads `item` or `index`. */
export function readsElement(compiled: CompiledValue | undefined): boolean {
  if (compiled === undefined || compiled.constant) return false
  return ELEMENT_ROOTS.some((root) => compiled.plan.has(root))
}

/** Compiles `for_each`; undefined (with an error pushed) when it is not one expression or a list. */
export function compileForEach(raw: unknown, prefix: string, label: string, errors: FieldError[]): CompiledValue | undefined {
  const path = joinPath(prefix, 'for_each')
  if (Array.isArray(raw)) return compileValue(raw)
  if (typeof raw !== 'string') return undefined // the schema reports the type
  let compiled: CompiledValue
  try {
    compiled = compileValue(raw)
  } catch (error) {
    if (!(error instanceof ExpressionSyntaxError)) throw error
    errors.push({ path, message: `${label}: for_each: ${error.message}` })
    return undefined
  }
  if (compiled.constant || compiled.node.kind !== 'expression') {
    errors.push({ path, message: `${label}: for_each must be one \${...} expression yielding a list (such as "\${input.items}"), or a list` })
    return undefined
  }
  if (readsElement(compiled)) {
    errors.push({ path, message: `${label}: for_each cannot read item or index: they exist only inside the elements it yields` })
  }
  return compiled
}

/** Reports `item`/`index` read where no element exists: the input of a task without for_each, or any condition. */
export function checkElementReads(
  task: { label: string; prefix: string; fansOut: boolean },
  compiled: { input: CompiledValue; when?: CompiledValue },
  errors: FieldError[],
): void {
  if (!task.fansOut && readsElement(compiled.input)) {
    errors.push({
      path: joinPath(task.prefix, 'input'),
      message: `${task.label}: input reads item or index, which exist only in a task with for_each`,
    })
  }
  if (readsElement(compiled.when)) {
    errors.push({
      path: joinPath(task.prefix, 'when'),
      message: `${task.label}: when cannot read item or index: the condition is evaluated once, before the fan-out`,
    })
  }
}
