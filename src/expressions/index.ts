/**
 * The expression language of workflows: `${...}` in task inputs, conditions and output mappings (DESIGN.md "Expressions"),
 * evaluated by CEL (@marcbachmann/cel-js), never by JavaScript.
 *
 * - Compile once (compileValue / compileCondition, at workflow creation), evaluate many times. A value without `${` is a
 *   constant: evaluating it returns the same deep-frozen copy at no cost.
 * - `"${expr}"` (the whole string) keeps the result's JSON type; `"a ${expr} b"` interpolates: strings as they are,
 *   anything else as JSON text (`null` → "null"). `$${` writes a literal `${`. Object keys are never evaluated.
 * - Roots: input, tasks (`tasks.<id>.output|status|error`, or `tasks["id-with-dash"]`, always a literal id), state,
 *   execution, workflow, params. Any other name is a compile-time error.
 * - Numbers: a whole JSON number is a CEL int, any other a double; ints and doubles mix freely in + - * / and
 *   comparisons. `int / int` is integer division (CEL): `${input.n / 2}` with n = 3 is 1; write `2.0` for 1.5.
 *   An int result outside ±(2^53−1) comes back as an exact decimal string; a non-finite double is an evaluation error.
 * - Only the data an expression reads is converted (the tasks it names, the paths it uses), so evaluation cost does
 *   not grow with the size of the execution.
 */
export { compileCondition, compileValue, isConstant, referencedTasks, taskReferences } from './compile.js'
export type { CompiledValue, SyntaxErrorSink, TaskReference } from './compile.js'
export { evaluateCondition, evaluateValue } from './evaluate.js'
export type { Scope, TaskView } from './evaluate.js'
export { ConditionNotBooleanError, ExpressionEvaluationError, ExpressionSyntaxError } from './errors.js'
export { EXPRESSION_ROOTS } from './environment.js'
export type { ExpressionRoot } from './environment.js'
