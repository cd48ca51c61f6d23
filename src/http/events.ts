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
 * What a callback subscription pushes, as an async iterator of batches: each item once and in order, every item that
 * queued while the consumer was busy in one batch (a stream writes a batch at once: one socket write per commit, not
 * per event), until `signal` aborts or the consumer stops (then it unsubscribes). No backpressure: the sources are an
 * execution's event log and the live feed, both bounded by what the engine commits.
 */
export async function* subscriptionBatches<T>(subscribe: Subscribe<T>, { signal, subscribed }: SubscriptionOptions): AsyncGenerator<T[]> {
  let queue: T[] = []
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
      if (queue.length > 0) {
        const batch = queue
        queue = []
        yield batch
        continue
      }
      if (signal.aborted) return
      await new Promise<void>((resolve) => (wake = resolve))
      wake = null
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
    unsubscribe()
  }
}

/** `subscriptionBatches`, one item at a time. */
export async function* subscription<T>(subscribe: Subscribe<T>, options: SubscriptionOptions): AsyncGenerator<T> {
  for await (const batch of subscriptionBatches(subscribe, options)) yield* batch
}

/**
 * An execution's events from the persisted log after `after`, then live ones, each once and in order, in batches (the
 * stored history at once, then what each commit adds); ends after the terminal event or when `signal` aborts. An
 * execution that ended before its terminal event reached the log cannot happen: the log is the source. With `types`
 * (API.md "Event filters") only those are yielded, with their own seq (so a client resumes with the last id it saw);
 * the stream still ends after the terminal event, sent or not.
 */
export async function* executionEventBatches(
  harmonia: Harmonia,
  executionId: string,
  after: number,
  signal: AbortSignal,
  types?: ReadonlySet<EventType>,
): AsyncGenerator<ExecutionEvent[]> {
  const batches = subscriptionBatches<ExecutionEvent>((push) => harmonia.subscribe(executionId, push, { after }), { signal })
  for await (const batch of batches) {
    const end = batch.findIndex(isTerminalEvent)
    const taken = end < 0 ? batch : batch.slice(0, end + 1)
    const kept = types === undefined ? taken : taken.filter((event) => types.has(event.type))
    if (kept.length > 0) yield kept
    if (end >= 0) return
  }
}

/** `executionEventBatches`, one event at a time. */
export async function* executionEvents(
  harmonia: Harmonia,
  executionId: string,
  after: number,
  signal: AbortSignal,
  types?: ReadonlySet<EventType>,
): AsyncGenerator<ExecutionEvent> {
  for await (const batch of executionEventBatches(harmonia, executionId, after, signal, types)) yield* batch
}

/** What the all-executions stream keeps: events of one workflow, of some types. */
export type AllEventsFilter = { workflowId?: string; types?: ReadonlySet<EventType> }

/** Every execution's events as they are committed (live only, no replay, no end), in batches, until `options.signal` aborts. */
export function allExecutionEventBatches(
  harmonia: Harmonia,
  options: SubscriptionOptions,
  filter: AllEventsFilter = {},
): AsyncGenerator<ExecutionEvent[]> {
  return subscriptionBatches<ExecutionEvent>((push) => harmonia.subscribeAll(push, filter), options)
}

/** `allExecutionEventBatches`, one event at a time. */
export async function* allExecutionEvents(
  harmonia: Harmonia,
  options: SubscriptionOptions,
  filter: AllEventsFilter = {},
): AsyncGenerator<ExecutionEvent> {
  for await (const batch of allExecutionEventBatches(harmonia, options, filter)) yield* batch
}

/** `Last-Event-ID` header, else `?after=`, else 0. */
export function resumeAfter(lastEventId: string | undefined, after: string | undefined): number {
  for (const raw of [lastEventId, after]) {
    if (raw !== undefined && /^\d{1,12}$/.test(raw.trim())) return Number(raw.trim())
  }
  return 0
}
