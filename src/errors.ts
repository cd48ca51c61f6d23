/** Error classes of Harmonia. `code` is what the HTTP layer maps to a status (API.md "Errors"). */

export type FieldError = { path: string; message: string }

export class HarmoniaError extends Error {
  readonly code:
    'validation' | 'not_found' | 'conflict' | 'invalid_transition' | 'internal' | 'stale_write' | 'unavailable' | 'unauthorized' =
    'internal'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'HarmoniaError'
  }
}

/** A well-formed request that fails validation (HTTP 422). `errors` name each field and the reason. */
export class ValidationError extends HarmoniaError {
  override readonly code = 'validation'
  readonly errors: FieldError[]
  constructor(errors: FieldError[], title = 'Validation failed') {
    // Most messages name their field already ("input.n must be an integer"): the path is not said twice.
    super(
      `${title}: ${errors.map((e) => (e.path === '' || e.message.startsWith(e.path) ? e.message : `${e.path}: ${e.message}`)).join('; ')}`,
    )
    this.name = 'ValidationError'
    this.errors = errors
  }
}

export class NotFoundError extends HarmoniaError {
  override readonly code = 'not_found'
  constructor(kind: string, id: string) {
    super(`${kind} ${id} not found`)
    this.name = 'NotFoundError'
  }
}

export class ConflictError extends HarmoniaError {
  override readonly code = 'conflict'
  constructor(message: string) {
    super(message)
    this.name = 'ConflictError'
  }
}

/** A command the current status forbids, such as pausing a completed execution (HTTP 409). */
export class InvalidTransitionError extends HarmoniaError {
  override readonly code = 'invalid_transition'
  constructor(kind: string, id: string, command: string, status: string) {
    super(`cannot ${command} ${kind} ${id}: it is ${status}`)
    this.name = 'InvalidTransitionError'
  }
}

/**
 * Thrown by a task handler to stop retries (Restate's TerminalError, Inngest's NonRetriableError).
 * Any other thrown value is retryable unless its code is listed in the task's `non_retryable_errors`.
 */
export class TerminalTaskError extends Error {
  readonly code: string | undefined
  constructor(message: string, options?: { code?: string; cause?: unknown }) {
    super(message, { cause: options?.cause })
    this.name = 'TerminalTaskError'
    this.code = options?.code
  }
}

/**
 * A failure normalised to JSON: what a task stores as `error`. `retry_after_ms` is the wait a server asked for
 * (`Retry-After` on a 429 or 503): the next attempt waits at least that long.
 */
export type TaskFailure = { message: string; code?: string; retryable: boolean; retry_after_ms?: number }

/**
 * Normalises anything a handler threw into a serialisable failure.
 * `nonRetryable` lists codes or error names that must not be retried (the retry policy's `non_retryable_errors`).
 */
export function toTaskFailure(error: unknown, nonRetryable: readonly string[] = []): TaskFailure {
  if (error instanceof TerminalTaskError) {
    return error.code === undefined
      ? { message: error.message, retryable: false }
      : { message: error.message, code: error.code, retryable: false }
  }
  if (error instanceof Error) {
    const rawCode = (error as { code?: unknown }).code
    const code = typeof rawCode === 'string' ? rawCode : undefined
    const flagged = (error as { retryable?: unknown }).retryable === false || (error as { nonRetryable?: unknown }).nonRetryable === true
    const listed = nonRetryable.includes(error.name) || (code !== undefined && nonRetryable.includes(code))
    const failure: TaskFailure = { message: error.message || error.name, retryable: !(flagged || listed) }
    if (code !== undefined) failure.code = code
    const retryAfter = (error as { retryAfterMs?: unknown }).retryAfterMs
    if (failure.retryable && typeof retryAfter === 'number' && Number.isFinite(retryAfter) && retryAfter > 0) {
      failure.retry_after_ms = Math.round(retryAfter)
    }
    return failure
  }
  if (typeof error === 'string') return { message: error, retryable: !nonRetryable.includes(error) }
  return { message: 'task failed with a non-error value', retryable: true }
}

/** A write by an owner whose epoch is no longer current: another node claimed the execution. */
export class StaleWriteError extends HarmoniaError {
  override readonly code = 'stale_write'
  /** The execution whose epoch moved on. */
  readonly executionId: string
  constructor(kind: string, id: string, epoch: number) {
    super(`stale write to ${kind} ${id}: epoch ${epoch} is no longer current`)
    this.name = 'StaleWriteError'
    this.executionId = id
  }
}

/**
 * The error another node answered a forwarded command with (services/commands.ts): the same code and message as if
 * it had been raised here, so the caller gets the owner's answer.
 */
export class ForwardedError extends HarmoniaError {
  override readonly code: HarmoniaError['code']
  constructor(code: HarmoniaError['code'], message: string) {
    super(message)
    this.name = 'ForwardedError'
    this.code = code
  }
}

/**
 * Something the request depends on cannot be reached — the database, Hermes (HTTP 503 with Retry-After): the request may
 * be tried again. The message names it; the driver's error is kept as `cause` (for logs, never for clients).
 */
export class UnavailableError extends HarmoniaError {
  override readonly code = 'unavailable'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'UnavailableError'
  }
}

/** A request whose credentials do not hold: a bad or stale component signature, a missing token (HTTP 401). */
export class UnauthorizedError extends HarmoniaError {
  override readonly code = 'unauthorized'
  constructor(message: string) {
    super(message)
    this.name = 'UnauthorizedError'
  }
}
