import type { Harmonia } from '../harmonia.js'
import type { EventType, ExecutionEvent } from '../model/events.js'

const TERMINAL = new Set(['workflow_completed', 'workflow_failed', 'workflow_canceled'])

/** True for the event after which an execution's stream ends. */
export const isTerminalEvent = (event: ExecutionEvent) => TERMINAL.has(event.type)

/** Starts a callback subscription; resolves with the function that ends it. */
export type Subscribe<T> = (push: (item: T) => void) => (() => void) | Promise<() => void>

export type SubscriptionOptions = {
  signal: AbortSignal
  /** Awaited once the subscription is in place, before the first item (e.g. to tell the client it is live). */
  subscribed?: () => Promise<void>
}

/**
 * What a callback subscription pushes, as an async iterator: each item once and in order, until `signal` aborts or the
 * consumer stops (then it unsubscribes). Items pushed while the consumer is busy queue in memory (no backpressure: the
 * sources are an execution's event log and the live feed, both bounded by what the engine commits).
 */
export async function* subscription<T>(subscribe: Subscribe<T>, { signal, subscribed }: SubscriptionOptions): AsyncGenerator<T> {
  const queue: T[] = []
  let wake: (() => void) | null = null
  const unsubscribe = await subscribe((item) => {
    queue.push(item)
    wake?.()
  })
  const onAbort = () => wake?.()
  signal.addEventListener('abort', onAbort)
  try {
    await subscribed?.()
    for (;;) {
      while (queue.length > 0) yield queue.shift()!
      if (signal.aborted) return
      await new Promise<void>((resolve) => (wake = resolve))
      wake = null
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
    unsubscribe()
  }
}

/**
 * An execution's events from the persisted log after `after`, then live ones, each once and in order; ends after the
 * terminal event or when `signal` aborts. An execution that ended before its terminal event reached the log cannot
 * happen: the log is the source. With `types` (API.md "Event filters") only those are yielded, with their own seq (so
 * a client resumes with the last id it saw); the stream still ends after the terminal event, sent or not.
 */
export async function* executionEvents(
  harmonia: Harmonia,
  executionId: string,
  after: number,
  signal: AbortSignal,
  types?: ReadonlySet<EventType>,
): AsyncGenerator<ExecutionEvent> {
  for await (const event of subscription<ExecutionEvent>((push) => harmonia.subscribe(executionId, push, { after }), { signal })) {
    if (types === undefined || types.has(event.type)) yield event
    if (isTerminalEvent(event)) return
  }
}

/** What the all-executions stream keeps: events of one workflow, of some types. */
export type AllEventsFilter = { workflowId?: string; types?: ReadonlySet<EventType> }

/** Every execution's events as they are committed (live only, no replay, no end) until `options.signal` aborts. */
export function allExecutionEvents(
  harmonia: Harmonia,
  options: SubscriptionOptions,
  filter: AllEventsFilter = {},
): AsyncGenerator<ExecutionEvent> {
  return subscription<ExecutionEvent>((push) => harmonia.subscribeAll(push, filter), options)
}

/** `Last-Event-ID` header, else `?after=`, else 0. */
export function resumeAfter(lastEventId: string | undefined, after: string | undefined): number {
  for (const raw of [lastEventId, after]) {
    if (raw !== undefined && /^\d{1,12}$/.test(raw.trim())) return Number(raw.trim())
  }
  return 0
}
