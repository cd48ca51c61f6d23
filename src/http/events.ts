import type { Harmonia } from '../harmonia.js'
import type { ExecutionEvent } from '../model/events.js'

const TERMINAL = new Set(['workflow_completed', 'workflow_failed', 'workflow_canceled'])

/** True for the event after which an execution's stream ends. */
export const isTerminalEvent = (event: ExecutionEvent) => TERMINAL.has(event.type)

/**
 * An execution's events from the persisted log after `after`, then live ones, each once and in order, as an async
 * iterator that ends after the terminal event or when `signal` aborts. Backpressure-free: events queue in memory.
 */
export async function* executionEvents(
  harmonia: Harmonia,
  executionId: string,
  after: number,
  signal: AbortSignal,
): AsyncGenerator<ExecutionEvent> {
  const queue: ExecutionEvent[] = []
  let wake: (() => void) | null = null
  const unsubscribe = await harmonia.subscribe(
    executionId,
    (event) => {
      queue.push(event)
      wake?.()
    },
    { after },
  )
  const onAbort = () => wake?.()
  signal.addEventListener('abort', onAbort)
  try {
    for (;;) {
      while (queue.length > 0) {
        const event = queue.shift()!
        yield event
        if (isTerminalEvent(event)) return
      }
      if (signal.aborted) return
      // An execution that ended before its terminal event reached the log cannot happen: the log is the source.
      await new Promise<void>((resolve) => (wake = resolve))
      wake = null
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
    unsubscribe()
  }
}

/** `Last-Event-ID` header, else `?after=`, else 0. */
export function resumeAfter(lastEventId: string | undefined, after: string | undefined): number {
  for (const raw of [lastEventId, after]) {
    if (raw !== undefined && /^\d{1,12}$/.test(raw.trim())) return Number(raw.trim())
  }
  return 0
}
