import type { Clock } from '../clock.js'
import type { Store } from '../db/store.js'
import type { Logger } from '../logger.js'
import type { ExecutionEvent } from '../model/events.js'
import type { SubscriptionCursor, SubscriptionRecord } from '../model/subscriptions.js'
import { createSemaphore } from '../actors/semaphore.js'
import { deliverEvent, type DeliveryResult } from './webhook-delivery.js'
import { afterFailure, HEALTHY, retryDelayMs, wants, wantsType } from './webhook-policy.js'

export type WebhookWorkerDeps = {
  store: Store
  clock: Clock
  now: () => number
  logger: Logger
  /** Every committed event of this process, live (the supervisor's subscribeAll). */
  subscribeAll: (listener: (event: ExecutionEvent) => void) => () => void
  /** The workflow of a live execution, read synchronously (undefined: not live here). */
  workflowOf: (executionId: string) => string | undefined
  /** HARMONIA_HTTP_ALLOW's patterns (undefined: any host). */
  allow: readonly string[] | undefined
  /** POSTs in flight at once, across every subscription and execution (default 8). */
  concurrency?: number
  /** One POST (tests may count or fake them); default deliverEvent. */
  deliver?: typeof deliverEvent
}

/**
 * One subscription × one execution: its deliveries run one at a time, in seq order. `cursor` mirrors the stored one
 * (this worker is its only writer), so a wake during a backoff costs no query.
 */
type Lane = {
  sub: string
  execution: string
  running: boolean
  again: boolean
  timer: unknown
  cursor: SubscriptionCursor | null
  ended: boolean
}

const laneKey = (sub: string, execution: string) => `${sub}\u0000${execution}`
const freshCursor = (sub: string, execution: string): SubscriptionCursor => ({
  subscription_id: sub,
  execution_id: execution,
  delivered_seq: 0,
  attempts: 0,
  next_attempt_at: null,
  last_error: null,
})
const TERMINAL = new Set(['workflow_completed', 'workflow_failed', 'workflow_canceled'])
/** A store error (the database unreachable) is retried after this long. */
const STORE_RETRY_MS = 5_000

/**
 * The webhook delivery worker (API.md "Event subscriptions"). The durable state is the cursor per subscription and
 * execution: events are read from the event log after `delivered_seq`, POSTed one by one, and the cursor moves only
 * after a 2xx, so delivery is at least once and in seq order per execution; different executions go in parallel
 * (bounded). A failure stores the attempt count and the next attempt's time (exponential backoff on the engine's
 * clock, `Retry-After` honoured), so a restart resumes where it stopped: `start` wakes every cursor that is behind.
 * Committed events wake their lanes; a receiver failing for 24 h disables its subscription.
 */
export function createWebhookWorker(deps: WebhookWorkerDeps) {
  const { store, clock, now, logger } = deps
  const deliver = deps.deliver ?? deliverEvent
  const subs = new Map<string, SubscriptionRecord>()
  const lanes = new Map<string, Lane>()
  const slots = createSemaphore(deps.concurrency ?? 8)
  const workflows = new Map<string, string>()
  const abort = new AbortController()
  const running = new Set<Promise<void>>()
  let unsubscribe: (() => void) | undefined
  let stopped = false

  function wake(sub: string, execution: string): void {
    if (stopped) return
    const key = laneKey(sub, execution)
    let lane = lanes.get(key)
    if (!lane) lanes.set(key, (lane = { sub, execution, running: false, again: false, timer: null, cursor: null, ended: false }))
    if (lane.running) {
      lane.again = true
      return
    }
    if (lane.timer !== null) clock.clearTimeout(lane.timer)
    lane.timer = null
    const run = drive(lane).finally(() => running.delete(run))
    running.add(run)
  }

  function arm(lane: Lane, ms: number): void {
    if (lane.timer !== null) clock.clearTimeout(lane.timer)
    lane.timer = clock.setTimeout(
      () => {
        lane.timer = null
        wake(lane.sub, lane.execution)
      },
      Math.max(1, ms),
    )
  }

  /** The lane's loop: deliver what is behind, then stop (caught up, waiting for a retry, or stopped). */
  async function drive(lane: Lane): Promise<void> {
    lane.running = true
    try {
      do {
        lane.again = false
        const waitMs = await catchUp(lane)
        if (waitMs !== undefined) return arm(lane, waitMs)
      } while (lane.again && !stopped)
    } catch (error) {
      lane.cursor = null // read it again from the store: a write may or may not have happened
      if (stopped) return
      logger.warn('webhook delivery paused by a store error; retrying', { subscription_id: lane.sub, error: String(error) })
      arm(lane, STORE_RETRY_MS)
    } finally {
      lane.running = false
      // A lane stays (with its cursor) until its execution's terminal event is behind it, or a store error.
      const gone = subs.get(lane.sub)?.disabled_at !== null
      if (lane.timer === null && (lane.ended || lane.cursor === null || gone)) lanes.delete(laneKey(lane.sub, lane.execution))
    }
  }

  /** Delivers the lane's pending events in order; answers how long to wait before trying again, or undefined. */
  async function catchUp(lane: Lane): Promise<number | undefined> {
    const sub = subs.get(lane.sub)
    if (stopped || !sub || sub.disabled_at !== null) return undefined
    let cursor = lane.cursor ?? (await store.subscriptions.cursor(lane.sub, lane.execution)) ?? freshCursor(lane.sub, lane.execution)
    lane.cursor = cursor
    const due = cursor.next_attempt_at === null ? 0 : Date.parse(cursor.next_attempt_at) - now()
    if (due > 0) return due
    let skipped = false
    // Whatever goes wrong below, the cached cursor must not run ahead of the stored one: it is set after each write.
    for (const event of await store.events.list(lane.execution, cursor.delivered_seq)) {
      if (TERMINAL.has(event.type)) lane.ended = true
      if (!wantsType(sub, event)) {
        cursor = { ...cursor, delivered_seq: event.seq }
        skipped = true
        continue
      }
      const result = await post(sub, event)
      if (stopped || !subs.has(sub.subscription_id)) return undefined
      if (result.ok) {
        cursor = { ...freshCursor(lane.sub, lane.execution), delivered_seq: event.seq }
        skipped = false
        await store.subscriptions.putCursor(cursor)
        lane.cursor = cursor
        if (sub.failing_since !== null || sub.last_error !== null) await setHealth(sub, HEALTHY)
        continue
      }
      const attempts = cursor.attempts + 1
      const delay = retryDelayMs(attempts, result.retryAfterMs)
      cursor = { ...cursor, attempts, next_attempt_at: new Date(now() + delay).toISOString(), last_error: result.error }
      lane.ended = false // the terminal event, if read, is not delivered yet
      await store.subscriptions.putCursor(cursor)
      lane.cursor = cursor
      const health = afterFailure(sub, result.error, now())
      await setHealth(sub, health)
      if (health.disabled_at !== null) {
        logger.warn('webhook subscription disabled: its receiver kept failing for 24 h', { subscription_id: sub.subscription_id })
        return undefined
      }
      return delay
    }
    if (skipped) {
      await store.subscriptions.putCursor(cursor)
      lane.cursor = cursor
    }
    return undefined
  }

  async function post(sub: SubscriptionRecord, event: ExecutionEvent): Promise<DeliveryResult> {
    await slots.acquire(abort.signal)
    try {
      return await deliver(sub, event, { now, allow: deps.allow, signal: abort.signal })
    } finally {
      slots.release()
    }
  }

  async function setHealth(sub: SubscriptionRecord, health: typeof HEALTHY): Promise<void> {
    Object.assign(sub, health)
    await store.subscriptions.setHealth(sub.subscription_id, health)
    if (health.disabled_at !== null) for (const lane of lanes.values()) if (lane.sub === sub.subscription_id) drop(lane)
  }

  function drop(lane: Lane): void {
    if (lane.timer !== null) clock.clearTimeout(lane.timer)
    lane.timer = null
    if (!lane.running) lanes.delete(laneKey(lane.sub, lane.execution))
  }

  /** A committed event wakes the lanes of the subscriptions that want it. */
  function onEvent(event: ExecutionEvent): void {
    if (subs.size === 0) return
    const id = event.execution_id
    const workflowId = deps.workflowOf(id) ?? workflows.get(id)
    if (workflowId === undefined && [...subs.values()].some((s) => s.workflow_id !== null)) {
      // Not live here (rare: published after its view closed): ask the store once, then wake.
      void store.executions
        .get(id)
        .then((e) => {
          if (!e) return
          remember(id, e.workflow_id)
          for (const sub of subs.values()) if (wants(sub, event.type, e.workflow_id)) wake(sub.subscription_id, id)
        })
        .catch((error: unknown) => logger.warn('webhook: execution lookup failed', { execution_id: id, error: String(error) }))
      for (const sub of subs.values()) if (sub.workflow_id === null && wants(sub, event.type, undefined)) wake(sub.subscription_id, id)
      return
    }
    for (const sub of subs.values()) if (wants(sub, event.type, workflowId)) wake(sub.subscription_id, id)
  }

  function remember(executionId: string, workflowId: string): void {
    if (workflows.size >= 10_000) workflows.delete(workflows.keys().next().value!)
    workflows.set(executionId, workflowId)
  }

  return {
    /** Loads the subscriptions (secrets opened), listens to committed events, and resumes every cursor that is behind. */
    async start(open: (sub: SubscriptionRecord) => SubscriptionRecord): Promise<void> {
      for (const sub of await store.subscriptions.all()) subs.set(sub.subscription_id, open(sub))
      unsubscribe = deps.subscribeAll(onEvent)
      for (const cursor of await store.subscriptions.pending()) wake(cursor.subscription_id, cursor.execution_id)
    },
    /** A subscription just created (secret in the clear): from now on its events are delivered. */
    add(sub: SubscriptionRecord): void {
      subs.set(sub.subscription_id, sub)
    },
    /** A subscription deleted: nothing more is sent for it. */
    remove(subscriptionId: string): void {
      subs.delete(subscriptionId)
      for (const lane of lanes.values()) if (lane.sub === subscriptionId) drop(lane)
    },
    /** The subscription as the worker holds it (health updated as deliveries go). */
    get: (subscriptionId: string): SubscriptionRecord | undefined => subs.get(subscriptionId),
    /** Lanes with deliveries running or waiting for a retry (tests, shutdown). */
    get busy(): number {
      return lanes.size
    },
    /** Resolves once no delivery is in flight (lanes waiting for a retry are not in flight). */
    async settled(): Promise<void> {
      while (running.size > 0) await Promise.allSettled([...running])
    },
    /** Stops: no new attempt starts, requests in flight are aborted, timers cleared; the cursors stay as stored. */
    async stop(): Promise<void> {
      stopped = true
      unsubscribe?.()
      abort.abort(new Error('harmonia is closing'))
      for (const lane of lanes.values()) if (lane.timer !== null) clock.clearTimeout(lane.timer)
      await Promise.allSettled([...running])
      lanes.clear()
    },
  }
}
export type WebhookWorker = ReturnType<typeof createWebhookWorker>
