import type { FieldError } from '../errors.js'
import type { WorkflowDefinition } from './definition.js'

/** The largest Postgres int4: workflow versions and attempt counts are stored as one. */
export const MAX_INT4 = 2 ** 31 - 1

/** The longest delay a timer can wait: Node's setTimeout fires at once (after 1 ms) beyond 2^31 − 1 ms. */
export const MAX_TIMER_SECONDS = Math.floor(MAX_INT4 / 1000)

/**
 * Durations a timer cannot wait (`timeout: 1e308` made the deadline an invalid date: a 500 at start, or an uncaught
 * RangeError from a retry timer): the workflow and task timeouts and the retry intervals. Pushes one error per field.
 */
export function checkTimerRanges(definition: WorkflowDefinition, errors: FieldError[]): void {
  const check = (path: string, label: string, seconds: number | undefined) => {
    if (seconds !== undefined && seconds > MAX_TIMER_SECONDS) {
      errors.push({ path, message: `${label}must be at most ${MAX_TIMER_SECONDS} seconds (about 24.8 days), got ${seconds}` })
    }
  }
  check('timeout', 'timeout ', definition.timeout)
  definition.tasks.forEach((task, i) => {
    const label = `task ${JSON.stringify(task.id)}: `
    check(`tasks[${i}].timeout`, `${label}timeout `, task.timeout)
    if (typeof task.retry === 'object') {
      check(`tasks[${i}].retry.initial_interval`, `${label}retry.initial_interval `, task.retry.initial_interval)
      check(`tasks[${i}].retry.max_interval`, `${label}retry.max_interval `, task.retry.max_interval)
    }
  })
}
