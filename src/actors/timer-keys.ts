/**
 * The keys of durable timer rows (`timers.key`, unique per execution): the one place they are spelled and read.
 * - `timeout`: the whole execution's deadline.
 * - `retry:<task>`: the backoff before a task's next attempt.
 * - `sleep:<task>:<attempt>:<n>`: the n-th `ctx.sleep` of one attempt; a re-run of the same attempt after a restart
 *   finds its timers again, a later attempt never does.
 * Task ids may hold `:`, so task keys are parsed from the ends.
 */
export type TimerKey =
  { kind: 'timeout' } | { kind: 'retry'; taskId: string } | { kind: 'sleep'; taskId: string; attempt: number; n: number }

export const TIMEOUT_KEY = 'timeout'

export const retryKey = (taskId: string): string => `retry:${taskId}`

export const sleepKey = (taskId: string, attempt: number, n: number): string => `sleep:${taskId}:${attempt}:${n}`

const SLEEP = /^sleep:(.*):(\d+):(\d+)$/s
const RETRY = /^retry:(.*)$/s

/** The timer a stored key names, or null for a key this version does not know. */
export function parseTimerKey(key: string): TimerKey | null {
  if (key === TIMEOUT_KEY) return { kind: 'timeout' }
  const sleep = SLEEP.exec(key)
  if (sleep) return { kind: 'sleep', taskId: sleep[1]!, attempt: Number(sleep[2]), n: Number(sleep[3]) }
  const retry = RETRY.exec(key)
  if (retry) return { kind: 'retry', taskId: retry[1]! }
  return null
}

/** The task that owns the timer, if any (its timers are cleared when the task settles). */
export function timerTask(key: string): string | undefined {
  const parsed = parseTimerKey(key)
  return parsed && parsed.kind !== 'timeout' ? parsed.taskId : undefined
}
