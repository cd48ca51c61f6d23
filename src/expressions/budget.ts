import type { Environment } from '@marcbachmann/cel-js'

/**
 * The cost budget of one evaluation (API.md "Roles, audit and limits": `HARMONIA_EXPRESSION_BUDGET`). CEL has no loops,
 * but comprehensions over data (`input.l.map(x, input.l.map(y, x + y))`) and concatenations can still build millions
 * of values, and evaluation is synchronous: it would hold the event loop. So every step of cel-js's evaluator is
 * counted (one AST node evaluated, including each comprehension iteration), and so is the size of every value built by
 * a `+`, a function or a method (a list's length, a map's size, a string's length / 8). Past the budget the evaluation
 * throws. The default, 500,000, is 15 to 40 ms of evaluation on a 2-core machine, and far above what a workflow's
 * expressions need.
 */
export const DEFAULT_EXPRESSION_BUDGET = 500_000

function budgetFromEnv(): number {
  const raw = Number(process.env.HARMONIA_EXPRESSION_BUDGET)
  return Number.isInteger(raw) && raw > 0 ? raw : DEFAULT_EXPRESSION_BUDGET
}

let budget = budgetFromEnv()
/** What the running evaluation may still spend; Infinity outside one (compile-time checks are not counted). */
let left = Infinity

/** Thrown from inside cel-js when an evaluation spends its budget. */
export class BudgetExhausted extends Error {
  constructor() {
    super('the expression exceeded its evaluation budget')
    this.name = 'BudgetExhausted'
  }
}

/** Sets the budget of every evaluation in this process (createHarmonia's `expressionBudget`). */
export function setExpressionBudget(steps: number): void {
  if (!Number.isInteger(steps) || steps < 1) throw new TypeError('the expression budget must be a positive integer')
  budget = steps
}

export const expressionBudget = (): number => budget

/** Runs one evaluation within the budget. */
export function withinBudget<T>(evaluate: () => T): T {
  left = budget
  try {
    const result = evaluate()
    // cel-js absorbs some errors (`false || error`): a budget spent anywhere fails the evaluation all the same.
    if (left < 0) throw new BudgetExhausted()
    return result
  } finally {
    left = Infinity
  }
}

const BUILDS: ReadonlySet<string> = new Set(['+', 'call', 'rcall'])

function sizeOf(value: unknown): number {
  if (Array.isArray(value)) return value.length
  if (value instanceof Map || value instanceof Set) return value.size
  if (typeof value === 'string') return value.length >>> 3
  return 0
}

type Evaluator = { run(ast: { op: string }, ctx: unknown): unknown }

/**
 * Counts the steps of `env`'s evaluator. cel-js keeps its evaluator private, but calls functions with it as `this`:
 * a probe function registered here, evaluated once, hands it over, and its `run` (the one entry of every node's
 * evaluation) is wrapped on that instance only. Call before the environment is locked.
 */
export function meterEvaluator(env: Environment): void {
  let evaluator: Evaluator | undefined
  env.registerFunction('__harmonia_meter(): bool', function (this: Evaluator) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the evaluator reaches us only as `this`
    evaluator = this
    return true
  })
  env.parse('__harmonia_meter()')(new Map())
  if (!evaluator) throw new Error('cel-js evaluator not found: the expression budget cannot be enforced')
  const run = evaluator.run.bind(evaluator)
  evaluator.run = (ast, ctx) => {
    if (--left < 0) throw new BudgetExhausted()
    const result = run(ast, ctx)
    if (BUILDS.has(ast.op)) {
      left -= sizeOf(result)
      if (left < 0) throw new BudgetExhausted()
    }
    return result
  }
}
