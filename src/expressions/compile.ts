import type { ParseResult } from '@marcbachmann/cel-js'
import { analyzeAst, AnalysisError, mergePlans, type RootPlan } from './analyze.js'
import { celEnvironment, EXPRESSION_ROOTS } from './environment.js'
import { ExpressionSyntaxError } from './errors.js'
import { formatPath, setOwn, type PathSegment } from '../json.js'
import { bindMatches } from './regex.js'
import { mayHoldExpression, scanTemplate, TemplateScanError } from './template.js'

/** One parsed and checked `${...}` expression. Shared by every value that holds the same source. */
export type CompiledExpression = {
  readonly source: string
  readonly program: ParseResult
  /** The CEL type the checker inferred: `dyn` for most expressions over workflow data, `bool` for comparisons. */
  readonly type: string
  readonly plan: RootPlan
  readonly tasks: readonly string[]
}

/** The shape of a value with expressions in it; constant sub-values are kept as they are. */
export type ValueNode =
  | { readonly kind: 'constant'; readonly value: unknown }
  | { readonly kind: 'expression'; readonly expression: CompiledExpression; readonly path: string }
  | { readonly kind: 'template'; readonly parts: readonly (string | CompiledExpression)[]; readonly path: string }
  | { readonly kind: 'array'; readonly items: readonly ValueNode[] }
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, ValueNode])[] }

/**
 * A value compiled once (at workflow creation) and evaluated many times. Treat it as opaque.
 * A constant holds a deep-frozen copy of the value, returned as is by `evaluateValue`; a dynamic value holds its
 * expression tree plus, merged over all its expressions, the paths to convert and the tasks it reads.
 */
export type CompiledValue =
  | { readonly constant: true; readonly value: unknown }
  | {
      readonly constant: false
      readonly node: ValueNode
      readonly plan: RootPlan
      readonly tasks: readonly string[]
      /** The first expression's source, to name in errors that are not about one expression. */
      readonly source: string
    }

/** Called for each bad expression instead of throwing, so a validator can report all of them at once. */
export type SyntaxErrorSink = (error: ExpressionSyntaxError) => void

const EMPTY_OBJECT: unknown = Object.freeze({})

/**
 * Compiles any JSON value: each string holding `${...}` is parsed and checked once. A string that is exactly one
 * `${expr}` evaluates to the expression's JSON value; other strings interpolate their expressions as text.
 * Throws ExpressionSyntaxError (or reports to `onError` and goes on, compiling the bad string as plain text).
 */
export function compileValue(value: unknown, onError?: SyntaxErrorSink): CompiledValue {
  const node = compileNode(value, [], onError)
  if (node.kind === 'constant') return { constant: true, value: node.value }
  const expressions = collectExpressions(node, [])
  const [first] = expressions
  // One distinct expression (the common case): share its plan, which nothing mutates.
  if (first !== undefined && expressions.every((expression) => expression === first)) {
    return { constant: false, node, plan: first.plan, tasks: first.tasks, source: first.source }
  }
  const plan: RootPlan = new Map()
  const tasks = new Set<string>()
  for (const expression of expressions) {
    mergePlans(plan, expression.plan)
    for (const id of expression.tasks) tasks.add(id)
  }
  return { constant: false, node, plan, tasks: [...tasks], source: first?.source ?? '' }
}

/**
 * Compiles a `when` condition: either one `${expr}` or a bare CEL expression (`input.n > 2`).
 * An expression the checker can prove is not boolean (`input.n + 1`) is rejected here; the rest is checked at evaluation.
 */
export function compileCondition(source: string): CompiledValue {
  const trimmed = source.trim()
  let cel = trimmed
  if (mayHoldExpression(trimmed)) {
    const parts = scan(trimmed, '')
    const [only] = parts
    if (parts.length !== 1 || only === undefined || typeof only === 'string') {
      throw new ExpressionSyntaxError(
        `invalid condition "${source}": write one \${...} expression or a bare CEL expression, not text around \${...}`,
        { path: '', expression: source },
      )
    }
    cel = only.source
  }
  const expression = compileExpression(cel, '')
  if (expression.type === 'dyn' && NEVER_BOOLEAN.has(rootOp(expression))) {
    throw new ExpressionSyntaxError(
      `invalid condition "${source}": it must be a boolean expression, but it computes a number or a string`,
      {
        path: '',
        expression: cel,
      },
    )
  }
  if (expression.type !== 'bool' && expression.type !== 'dyn') {
    throw new ExpressionSyntaxError(
      `invalid condition "${source}": it must be a boolean expression, but it is of type ${expression.type}`,
      {
        path: '',
        expression: cel,
      },
    )
  }
  return {
    constant: false,
    node: { kind: 'expression', expression, path: '' },
    plan: expression.plan,
    tasks: expression.tasks,
    source: cel,
  }
}

/**
 * Operators no CEL overload makes boolean: arithmetic, negation, list and map literals. Over `dyn` data
 * (`input.n + 1`) the checker infers `dyn`, so a condition made of one of them is refused by its shape instead.
 */
const NEVER_BOOLEAN: ReadonlySet<string> = new Set(['+', '-', '*', '/', '%', '-_', 'list', 'map'])

function rootOp(expression: CompiledExpression): string {
  const ast = (expression.program as { ast?: { op?: unknown } }).ast
  return typeof ast?.op === 'string' ? ast.op : ''
}

/** True when the value has no expressions: evaluating it costs nothing and returns the same (frozen) value. */
export function isConstant(compiled: CompiledValue): boolean {
  return compiled.constant
}

/** The task ids the value reads through `tasks.<id>` or `tasks["<id>"]`, each once, in order of first use. */
export function referencedTasks(compiled: CompiledValue): string[] {
  return compiled.constant ? [] : [...compiled.tasks]
}

/** Where a value reads a task: the JSON path of the string inside the value, the expression, and the task id. */
export type TaskReference = { path: string; expression: string; task: string }

/** Every `tasks.<id>` read of the value with the path of the string that holds it (for validation messages). */
export function taskReferences(compiled: CompiledValue): TaskReference[] {
  if (compiled.constant) return []
  const out: TaskReference[] = []
  const visit = (node: ValueNode): void => {
    switch (node.kind) {
      case 'constant':
        return
      case 'expression':
        for (const task of node.expression.tasks) out.push({ path: node.path, expression: node.expression.source, task })
        return
      case 'template':
        for (const part of node.parts) {
          if (typeof part !== 'string') for (const task of part.tasks) out.push({ path: node.path, expression: part.source, task })
        }
        return
      case 'array':
        for (const item of node.items) visit(item)
        return
      case 'object':
        for (const [, item] of node.entries) visit(item)
        return
    }
  }
  visit(compiled.node)
  return out
}

/**
 * `at` is the path of `value` as a stack of segments, formatted only when a string holds an expression: most of a
 * definition is plain data, and formatting a path for every key of it would cost more than the rest of compiling.
 */
function compileNode(value: unknown, at: PathSegment[], onError: SyntaxErrorSink | undefined): ValueNode {
  if (typeof value === 'string') return compileString(value, at, onError)
  if (typeof value !== 'object' || value === null) return { kind: 'constant', value }
  if (Array.isArray(value)) {
    const items: ValueNode[] = new Array<ValueNode>(value.length)
    let constant = true
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      at.push(i)
      const node = compileNode(item === undefined ? null : item, at, onError)
      at.pop()
      items[i] = node
      if (node.kind !== 'constant') constant = false
    }
    if (constant) return { kind: 'constant', value: Object.freeze(items.map(constantOf)) }
    return { kind: 'array', items }
  }
  const entries: [string, ValueNode][] = []
  let constant = true
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key]
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue
    at.push(key)
    const node = compileNode(item, at, onError)
    at.pop()
    entries.push([key, node])
    if (node.kind !== 'constant') constant = false
  }
  if (!constant) return { kind: 'object', entries }
  if (entries.length === 0) return { kind: 'constant', value: EMPTY_OBJECT }
  const copy: Record<string, unknown> = {}
  for (const [key, item] of entries) setOwn(copy, key, constantOf(item))
  return { kind: 'constant', value: Object.freeze(copy) }
}

function constantOf(node: ValueNode): unknown {
  return node.kind === 'constant' ? node.value : undefined
}

function compileString(text: string, at: readonly PathSegment[], onError: SyntaxErrorSink | undefined): ValueNode {
  // The common case: no `${` at all. No scanning, no allocation.
  if (!mayHoldExpression(text)) return { kind: 'constant', value: text }
  const path = formatPath(at)
  try {
    const parts = scan(text, path).map((part) => (typeof part === 'string' ? part : compileExpression(part.source, path)))
    const [first] = parts
    if (parts.length === 1 && first !== undefined && typeof first !== 'string') return { kind: 'expression', expression: first, path }
    if (parts.every((part) => typeof part === 'string')) return { kind: 'constant', value: parts.join('') }
    return { kind: 'template', parts, path }
  } catch (error) {
    if (!(error instanceof ExpressionSyntaxError) || !onError) throw error
    onError(error)
    return { kind: 'constant', value: text }
  }
}

function scan(text: string, path: string) {
  try {
    return scanTemplate(text)
  } catch (error) {
    if (!(error instanceof TemplateScanError)) throw error
    throw new ExpressionSyntaxError(`invalid expression in "${text}": ${error.message} (at offset ${error.offset})`, {
      path,
      expression: text,
    })
  }
}

function collectExpressions(node: ValueNode, out: CompiledExpression[]): CompiledExpression[] {
  switch (node.kind) {
    case 'constant':
      break
    case 'expression':
      out.push(node.expression)
      break
    case 'template':
      for (const part of node.parts) if (typeof part !== 'string') out.push(part)
      break
    case 'array':
      for (const item of node.items) collectExpressions(item, out)
      break
    case 'object':
      for (const [, item] of node.entries) collectExpressions(item, out)
      break
  }
  return out
}

/**
 * Parsed expressions by source. A 10,000-task workflow usually repeats a handful of expressions
 * (`${input.x}`), and workflows are compiled again when loaded from storage; parsing each source once saves both.
 * Bounded: the oldest entries are dropped first.
 */
const cache = new Map<string, CompiledExpression>()
const CACHE_LIMIT = 10_000

function compileExpression(source: string, path: string): CompiledExpression {
  const cached = cache.get(source)
  if (cached) return cached
  const compiled = parseAndCheck(source, path)
  if (cache.size >= CACHE_LIMIT) cache.clear()
  cache.set(source, compiled)
  return compiled
}

function parseAndCheck(source: string, path: string): CompiledExpression {
  const shown = `\${${source}}`
  const fail = (reason: string, cause?: unknown): never => {
    throw new ExpressionSyntaxError(`invalid expression ${shown}: ${reason}`, { path, expression: source, cause })
  }
  if (source.trim() === '') fail('the expression is empty')
  let program: ParseResult
  try {
    program = celEnvironment.parse(source)
  } catch (error) {
    return fail(describeCelError(error), error)
  }
  // check() infers types and stores them on the AST, so evaluation later skips its own type-checking pass.
  const checked = program.check()
  if (!checked.valid) {
    const error = checked.error
    const unknown =
      (error as { code?: string } | undefined)?.code === 'unknown_variable' ? /Unknown variable: (\S+)/.exec(describeCelError(error)) : null
    if (unknown) {
      const hint = /tasks\.\w+-/.test(source) ? '; write tasks["my-id"] for a task id that contains "-"' : ''
      return fail(`unknown name "${unknown[1]}": expressions can use ${EXPRESSION_ROOTS.join(', ')}${hint}`, error)
    }
    return fail(describeCelError(error), error)
  }
  // `matches` runs on RE2 (linear time); a literal pattern RE2 refuses is refused now, with the workflow.
  const [badPattern] = bindMatches(program.ast)
  if (badPattern !== undefined) fail(badPattern)
  try {
    const { plan, tasks } = analyzeAst(program.ast)
    return { source, program, type: checked.type ?? 'dyn', plan, tasks }
  } catch (error) {
    if (error instanceof AnalysisError) return fail(error.message, error)
    throw error
  }
}

/** A one-line reason from a cel-js error (its `message` spans several lines with a source excerpt). */
export function describeCelError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error)
  const { summary, message, range } = error as { summary?: unknown; message?: unknown; range?: { start?: unknown } }
  const text = typeof summary === 'string' && summary !== '' ? summary : String(message).split('\n')[0]
  return typeof range?.start === 'number' ? `${text} (at offset ${range.start})` : (text ?? 'unknown error')
}
