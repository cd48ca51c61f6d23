import type { ExecutionEvent } from '../model/events.js'
import type { SubscriptionRecord } from '../model/subscriptions.js'

/**
 * The pure rules of webhook delivery (API.md "Event subscriptions"): which events a subscription wants, how long to
 * wait after a failed attempt, and when a receiver that keeps failing is given up on. No IO, no clock: times come in.
 */

/** The first retry waits 1 s, then twice as long each time, at most 5 min. */
export const FIRST_RETRY_MS = 1_000
export const MAX_RETRY_MS = 5 * 60_000
/** A `Retry-After` longer than this is cut to it: a receiver cannot park a subscription for days. */
export const MAX_RETRY_AFTER_MS = 60 * 60_000
/** A receiver failing for this long without one success is disabled. */
export const DISABLE_AFTER_MS = 24 * 60 * 60_000

/** Whether `sub` wants events of `type` from an execution of `workflowId` (undefined: not known, so not excluded). */
export function wants(sub: SubscriptionRecord, type: ExecutionEvent['type'], workflowId: string | undefined): boolean {
  if (sub.disabled_at !== null) return false
  if (sub.types !== null && !sub.types.includes(type)) return false
  return sub.workflow_id === null || workflowId === undefined || sub.workflow_id === workflowId
}

/** Whether `sub`'s type filter lets `event` through. */
export const wantsType = (sub: SubscriptionRecord, event: ExecutionEvent): boolean => sub.types === null || sub.types.includes(event.type)

/** The wait before the next attempt after `attempts` failed ones (1 for the first), stretched to `retryAfterMs`. */
export function retryDelayMs(attempts: number, retryAfterMs?: number): number {
  const backoff = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, Math.min(attempts - 1, 30)))
  return retryAfterMs === undefined ? backoff : Math.max(backoff, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS))
}

export type Health = Pick<SubscriptionRecord, 'failing_since' | 'last_error' | 'disabled_at'>

/** The subscription's health after a failed attempt at `now`: failing since the first failure, disabled after 24 h of it. */
export function afterFailure(sub: Health, error: string, now: number): Health {
  const failingSince = sub.failing_since ?? new Date(now).toISOString()
  if (now - Date.parse(failingSince) >= DISABLE_AFTER_MS) {
    return {
      failing_since: failingSince,
      disabled_at: new Date(now).toISOString(),
      last_error: `disabled after failing for 24 h: ${error}`,
    }
  }
  return { failing_since: failingSince, disabled_at: null, last_error: error }
}

/** The health after a success: nothing failing. */
export const HEALTHY: Health = { failing_since: null, last_error: null, disabled_at: null }
