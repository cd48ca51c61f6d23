import { Environment } from '@marcbachmann/cel-js'
import { meterEvaluator } from './budget.js'

/**
 * The variables an expression may name (DESIGN.md "Expressions"). Anything else is rejected when the workflow is created.
 * `item` and `index` are the element and its position inside a fan-out (model/fan-out.ts says where they may be read).
 */
export const EXPRESSION_ROOTS = ['input', 'tasks', 'state', 'execution', 'workflow', 'params', 'item', 'index'] as const
export type ExpressionRoot = (typeof EXPRESSION_ROOTS)[number]

const ROOT_SET: ReadonlySet<string> = new Set(EXPRESSION_ROOTS)

/** True when `name` is one of EXPRESSION_ROOTS. */
export function isExpressionRoot(name: string): name is ExpressionRoot {
  return ROOT_SET.has(name)
}

/** The fields of `tasks.<id>`. */
export const TASK_VIEW_FIELDS: ReadonlySet<string> = new Set(['output', 'status', 'error'])

/**
 * The one CEL environment every expression is parsed and checked in. Building an environment is expensive,
 * so it is built once per process and frozen (by `clone`) so nothing can register into it later.
 *
 * - Only the roots are declared (`unlistedVariablesAreDyn: false`), so an unknown root fails `check()`.
 * - Roots are `dyn`: workflow data has no schema, so field types are only known at run time.
 * - List and map literals may mix types (`[1, "a"]`), as JSON does.
 * - Mixed int/double arithmetic: CEL has no `int * double` overload, and JSON has a single number type, so
 *   `input.n * 1.5` (n = 3, an int after conversion) would fail with "no such overload". We add the mixed
 *   overloads for + - * / (they return double) and `int == double` (the `dyn<int> == double` and `double == int`
 *   cases already exist). Mixed ordering (`<`, `>=`…) is built in. `int / int` stays integer division, as in CEL.
 */
function createEnvironment(): Environment {
  const env = new Environment({ unlistedVariablesAreDyn: false, homogeneousAggregateLiterals: false, enableOptionalTypes: false })
  for (const root of EXPRESSION_ROOTS) env.registerVariable(root, 'dyn')
  const arithmetic: Record<'+' | '-' | '*' | '/', (a: number, b: number) => number> = {
    '+': (a, b) => a + b,
    '-': (a, b) => a - b,
    '*': (a, b) => a * b,
    '/': (a, b) => a / b,
  }
  for (const [op, fn] of Object.entries(arithmetic)) {
    env.registerOperator(`int ${op} double: double`, (a: bigint, b: number) => fn(Number(a), b))
    env.registerOperator(`double ${op} int: double`, (a: number, b: bigint) => fn(a, Number(b)))
  }
  env.registerOperator('int == double', (a: bigint, b: number) => Number(a) === b)
  meterEvaluator(env)
  // clone() locks the parent's registry: from here on nobody can register functions or variables into `env`.
  env.clone()
  return env
}

export const celEnvironment: Environment = createEnvironment()
