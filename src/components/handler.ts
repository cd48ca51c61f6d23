import type { Logger } from '../logger.js'

/** What a handler receives besides its input (DESIGN.md "Components"). */
export type HandlerContext = {
  executionId: string
  workflowId: string
  taskId: string
  /** 1 for the first attempt. */
  attempt: number
  /** The element's position inside a fan-out (`for_each`); absent for other tasks. */
  index?: number
  /**
   * `<execution_id>:<task_id>` (`:<index>` for a fan-out element): the same for every attempt and after a restart, for
   * idempotent side effects.
   */
  idempotencyKey: string
  /** When this attempt times out (ISO-8601), or null when the task has no timeout. */
  deadline: string | null
  /** W3C `traceparent` naming this attempt's span (model/trace-context.ts): sent on to remote components. */
  readonly traceparent: string
  /** Fires when the attempt times out or the execution is canceled. */
  signal: AbortSignal
  logger: Logger
  /** A durable timer on the engine's clock: a restart resumes it with the time that remains. */
  sleep(ms: number): Promise<void>
  /**
   * Waits for this attempt's callback (`POST /api/executions/{id}/tasks/{task}/complete` or `/fail`) and resolves with
   * its output, or throws its failure. The wait is durable: after a restart the attempt is not run again, it keeps
   * waiting. A remote component's 202 answer leads here.
   */
  awaitCallback(): Promise<unknown>
  /**
   * Waits for the signal `name` of this execution (`POST /api/executions/{id}/signals/{name}`) and resolves with its
   * payload; one sent before the wait is kept and taken at once. Each payload is taken by one wait only, and the same
   * attempt re-run after a restart gets the same payload again. A timeout (ms, durable) fails with `signal_timeout`.
   */
  waitForSignal(name: string, timeoutMs?: number): Promise<unknown>
  /** The engine's clock, ms since the epoch (a simulated clock in tests). */
  now(): number
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers take whatever JSON their action accepts
export type Handler = (input: any, ctx: HandlerContext) => unknown

/** An in-process component: its actions by name. */
export type Component = Record<string, Handler>
