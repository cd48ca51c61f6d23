import { joinPath } from '../json.js'

/** Errors of the expression language: one for compile time (workflow creation), one for evaluation (run time). */

/**
 * An expression that does not parse, names an unknown root, or is ill-typed in a way CEL can prove up front.
 * Raised once, when a workflow is created; `path` is the JSON path inside the compiled value (`""` for its root).
 */
export class ExpressionSyntaxError extends Error {
  /** Relative JSON path of the string holding the expression inside the compiled value: `data`, `items[2]`, or `""`. */
  readonly path: string
  /** The CEL source without the surrounding `${` `}` (the whole string when the error is about the string itself). */
  readonly expression: string
  constructor(message: string, options: { path: string; expression: string; cause?: unknown }) {
    super(message, { cause: options.cause })
    this.name = 'ExpressionSyntaxError'
    this.path = options.path
    this.expression = options.expression
  }

  /** The same error, relocated under a parent path (`items[2]` under `data` becomes `data.items[2]`). */
  under(prefix: string): ExpressionSyntaxError {
    return new ExpressionSyntaxError(this.message, { path: joinPath(prefix, this.path), expression: this.expression, cause: this.cause })
  }
}

/**
 * An expression that failed on the data it was given: a missing field, a type mismatch, a non-boolean condition.
 * The same data would fail again, so the error is marked non-retryable for `toTaskFailure` (src/errors.ts).
 */
export class ExpressionEvaluationError extends Error {
  /** `expression_error`, `when_not_boolean`, `expression_budget_exceeded`: what a failed task reports as its code. */
  readonly code: string
  readonly retryable = false
  /** The CEL source that failed, without the surrounding `${` `}`. */
  readonly expression: string
  constructor(message: string, options: { expression: string; cause?: unknown; code?: string }) {
    super(message, { cause: options.cause })
    this.name = 'ExpressionEvaluationError'
    this.expression = options.expression
    this.code = options.code ?? 'expression_error'
  }
}

/** A `when` condition that evaluated to something other than a boolean (task error code `when_not_boolean`). */
export class ConditionNotBooleanError extends ExpressionEvaluationError {
  constructor(message: string, options: { expression: string }) {
    super(message, { ...options, code: 'when_not_boolean' })
    this.name = 'ConditionNotBooleanError'
  }
}
