import { serialize, type ASTNode } from '@marcbachmann/cel-js'
import type { CompiledExpression, CompiledValue, ValueNode } from './compile.js'
import { describeCelError } from './compile.js'
import { setOwn } from '../json.js'
import { fromCel, NonJsonResultError, toCelPruned } from './convert.js'
import type { RootPlan } from './analyze.js'
import { BudgetExhausted, expressionBudget, withinBudget } from './budget.js'
import { ConditionNotBooleanError, ExpressionEvaluationError } from './errors.js'

/** What an expression sees of one task: `tasks.<id>.output`, `.status`, `.error`. */
export type TaskView = { output?: unknown; status?: string; error?: unknown }

/**
 * The data expressions run against. `tasks` is a lookup, called only for the ids an expression names, so an
 * execution with 10,000 tasks never builds (or converts) a view of all of them.
 * Values are read, never changed; a root that is absent reads as an empty object.
 */
export type Scope = {
  input?: unknown
  state?: unknown
  execution?: Record<string, unknown>
  workflow?: Record<string, unknown>
  params?: unknown
  tasks?: (taskId: string) => TaskView | undefined
  /** Inside one element of a fan-out: the element and its position. */
  item?: unknown
  index?: number
}

type Context = Map<string, unknown>

/**
 * Evaluates a compiled value against `scope`. A constant is returned as is (deep-frozen, shared: do not mutate);
 * otherwise a fresh JSON value is built. Throws ExpressionEvaluationError naming the expression that failed.
 */
export function evaluateValue(compiled: CompiledValue, scope: Scope): unknown {
  if (compiled.constant) return compiled.value
  const context = buildContext(compiled.plan, scope, compiled.source)
  return evaluateNode(compiled.node, context)
}

/** Evaluates a compiled condition; anything but a boolean result is an ExpressionEvaluationError. */
export function evaluateCondition(compiled: CompiledValue, scope: Scope): boolean {
  const result = evaluateValue(compiled, scope)
  if (typeof result === 'boolean') return result
  const source = compiled.constant ? JSON.stringify(compiled.value) : compiled.source
  throw new ConditionNotBooleanError(
    `condition \${${source}} must evaluate to a boolean, but it gave ${describeJsonType(result)} ${preview(result)}`,
    { expression: source },
  )
}

function buildContext(plan: RootPlan, scope: Scope, source: string): Context {
  const context: Context = new Map()
  try {
    for (const [root, trie] of plan) {
      if (root === 'tasks') {
        const tasks = new Map<string, unknown>()
        for (const [id, child] of trie.children) {
          const view = scope.tasks?.(id)
          if (view === undefined) continue
          tasks.set(id, toCelPruned({ output: view.output, status: view.status, error: view.error }, child))
        }
        context.set(root, tasks)
      } else {
        const value = scope[root]
        context.set(root, value === undefined ? new Map() : toCelPruned(value, trie))
      }
    }
  } catch (error) {
    throw new ExpressionEvaluationError(`cannot evaluate \${${source}}: the data it reads cannot be converted (${String(error)})`, {
      expression: source,
      cause: error,
    })
  }
  return context
}

function evaluateNode(node: ValueNode, context: Context): unknown {
  switch (node.kind) {
    case 'constant':
      return node.value
    case 'expression':
      return evaluateExpression(node.expression, context)
    case 'template': {
      let text = ''
      for (const part of node.parts) text += typeof part === 'string' ? part : asText(evaluateExpression(part, context))
      return text
    }
    case 'array':
      return node.items.map((item) => evaluateNode(item, context))
    case 'object': {
      const out: Record<string, unknown> = {}
      for (const [key, item] of node.entries) setOwn(out, key, evaluateNode(item, context))
      return out
    }
  }
}

function evaluateExpression(expression: CompiledExpression, context: Context): unknown {
  let raw: unknown
  try {
    raw = withinBudget(() => expression.program(context))
  } catch (error) {
    if (error instanceof BudgetExhausted) {
      const message = `cannot evaluate \${${expression.source}}: it exceeded the evaluation budget of ${expressionBudget()} steps (HARMONIA_EXPRESSION_BUDGET)`
      throw new ExpressionEvaluationError(message, { expression: expression.source, code: 'expression_budget_exceeded', cause: error })
    }
    throw new ExpressionEvaluationError(`cannot evaluate \${${expression.source}}: ${explain(error)}`, {
      expression: expression.source,
      cause: error,
    })
  }
  try {
    return fromCel(raw)
  } catch (error) {
    if (!(error instanceof NonJsonResultError)) throw error
    throw new ExpressionEvaluationError(`cannot evaluate \${${expression.source}}: ${error.message}`, {
      expression: expression.source,
      cause: error,
    })
  }
}

/** Strings interpolate as they are; everything else as its JSON text (`3`, `true`, `null`, `{"a":1}`). */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** Turns a cel-js error into a sentence; a missing key names the full path that was missing. */
function explain(error: unknown): string {
  const { code, node } = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown
    node?: { op?: unknown; args?: unknown }
  }
  if (code === 'no_such_key' && node && (node.op === '.' || node.op === '[]')) {
    const path = safeSerialize(node as ASTNode)
    const [target, key] = node.args as [{ op?: unknown; args?: unknown }, unknown]
    if (target.op === 'id' && target.args === 'tasks') {
      const id = typeof key === 'string' ? key : (key as { args?: unknown }).args
      return `${path} is not available: task "${String(id)}" has no result yet`
    }
    if (path !== undefined) return `${path} is not present`
  }
  return describeCelError(error)
}

function safeSerialize(node: ASTNode): string | undefined {
  try {
    return serialize(node)
  } catch {
    return undefined
  }
}

function describeJsonType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}
