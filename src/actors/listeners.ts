import type { Store } from '../db/store.js'
import type { Logger } from '../logger.js'
import type { ExecutionEvent } from '../model/events.js'

export type EventListener = (event: ExecutionEvent) => void

/**
 * Who hears committed events: listeners of one execution and listeners of all. The journal publishes a batch's
 * events here only after the batch is committed. `subscribe` joins the stored history with the live events.
 */
export function createListeners(deps: { events: Store['events']; logger: Logger }) {
  const byExecution = new Map<string, Set<EventListener>>()
  const everyExecution = new Set<EventListener>()

  function listen(executionId: string, listener: EventListener): () => void {
    let set = byExecution.get(executionId)
    if (!set) byExecution.set(executionId, (set = new Set()))
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0) byExecution.delete(executionId)
    }
  }

  return {
    /** Hands committed events to their listeners, in order; a listener that throws is logged and skipped. */
    publish(events: readonly ExecutionEvent[]): void {
      for (const event of events) {
        const set = byExecution.get(event.execution_id)
        const all = set ? [...set, ...everyExecution] : everyExecution
        for (const listener of all) {
          try {
            listener(event)
          } catch (error) {
            deps.logger.error('event listener threw', { execution_id: event.execution_id, error: String(error) })
          }
        }
      }
    },
    listen,
    /** Every committed event of every execution (live only), for dashboards. */
    listenAll: (listener: EventListener): (() => void) => {
      everyExecution.add(listener)
      return () => everyExecution.delete(listener)
    },
    /**
     * An execution's events after `after`: the stored history first, then live ones, each exactly once and in `seq`
     * order. Live events that arrive while the history is read are held and delivered after it.
     */
    subscribe: async (executionId: string, listener: EventListener, after = 0): Promise<() => void> => {
      let last = after
      const held: ExecutionEvent[] = []
      let replaying = true
      const deliver = (event: ExecutionEvent) => {
        if (event.seq <= last) return
        last = event.seq
        listener(event)
      }
      const unlisten = listen(executionId, (event) => (replaying ? held.push(event) : deliver(event)))
      try {
        for (const event of await deps.events.list(executionId, after)) deliver(event)
      } catch (error) {
        unlisten()
        throw error
      }
      replaying = false
      for (const event of held) deliver(event)
      return unlisten
    },
  }
}
export type Listeners = ReturnType<typeof createListeners>
