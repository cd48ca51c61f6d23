import { createHash } from 'node:crypto'

/**
 * W3C trace context for executions (API.md "Observability and UI"). Every id is derived from the execution, so a
 * restart, a recovery on another node or a restore names the same spans again instead of making new ones: the trace
 * id is the incoming `traceparent`'s when the execution was started with one, else a hash of the execution id; span
 * ids hash the execution id (its span) or execution, task and attempt (an attempt's span).
 */

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** The parts of a valid `traceparent` header (version 00, ids not all zero), else undefined. */
export function parseTraceparent(header: string | undefined): { traceId: string; spanId: string; flags: number } | undefined {
  const match = header === undefined ? null : TRACEPARENT.exec(header.trim().toLowerCase())
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined
  return { traceId: match[1]!, spanId: match[2]!, flags: parseInt(match[3]!, 16) }
}

const digest = (text: string, hexChars: number): string => createHash('sha256').update(text).digest('hex').slice(0, hexChars)

/** The execution's trace id: its stored `traceparent`'s, else derived from its id. */
export const traceIdOf = (executionId: string, traceparent?: string): string =>
  parseTraceparent(traceparent)?.traceId ?? digest(`trace:${executionId}`, 32)

/** The span id of the execution's span. */
export const executionSpanId = (executionId: string): string => digest(`execution:${executionId}`, 16)

/** The span id of one attempt of a task. */
export const attemptSpanId = (executionId: string, taskId: string, attempt: number): string =>
  digest(`attempt:${executionId}:${taskId}:${attempt}`, 16)

/** The `traceparent` a component receives for one attempt: the attempt's span as its parent (sampled). */
export const attemptTraceparent = (executionId: string, taskId: string, attempt: number, traceparent?: string): string =>
  `00-${traceIdOf(executionId, traceparent)}-${attemptSpanId(executionId, taskId, attempt)}-01`

/** Where an execution keeps the `traceparent` it was started with. */
export const TRACEPARENT_KEY = 'traceparent'
