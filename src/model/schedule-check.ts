/**
 * The checks of a workflow's `schedules` that the valibot schema cannot make (API.md "Schedules"): each cron and time
 * zone is usable (422 naming `schedules[i].cron`), no two schedules share a cron and time zone (they would share
 * their ticks), and each schedule's input is accepted by the workflow's `input` (else no tick could ever run).
 */
import { ValidationError, type FieldError } from '../errors.js'
import { isPlainObject } from '../json.js'
import type { InputSpec } from './definition.js'
import { resolveWorkflowInput } from './input.js'
import { cronProblem, scheduleKey } from './schedule.js'

export function checkSchedules(schedules: unknown, input: InputSpec | undefined, errors: FieldError[]): void {
  if (!Array.isArray(schedules)) return
  const seen = new Map<string, number>()
  schedules.forEach((raw: unknown, i) => {
    if (!isPlainObject(raw) || typeof raw.cron !== 'string' || raw.cron === '') return
    const timezone = typeof raw.timezone === 'string' && raw.timezone !== '' ? raw.timezone : 'UTC'
    const path = `schedules[${i}].cron`
    const problem = cronProblem(raw.cron, timezone)
    if (problem) {
      errors.push({ path, message: `${path} ${JSON.stringify(raw.cron)} ${problem}` })
      return
    }
    const key = scheduleKey({ cron: raw.cron, timezone })
    const first = seen.get(key)
    if (first !== undefined) {
      errors.push({ path, message: `${path} repeats schedules[${first}] (same cron and time zone): give it one schedule` })
      return
    }
    seen.set(key, i)
    if (input === undefined || (raw.input !== undefined && !isPlainObject(raw.input))) return
    try {
      resolveWorkflowInput(input, raw.input ?? {}, `schedules[${i}].input`)
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error
      errors.push(...error.errors)
    }
  })
}
