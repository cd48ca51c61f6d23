import type { Journal } from './journal.js'

type Waiter = { consumer: string; take: (payload: unknown) => void }

/**
 * The tasks of live executions that wait for a signal, by execution and name, in the order they began to wait. The
 * signals themselves (and who consumed which) are the journal's; this only hands a payload to a waiting task once its
 * consumption is recorded.
 */
export function createSignalWaiters(journal: Journal) {
  const waiting = new Map<string, Map<string, Waiter[]>>()

  const listOf = (executionId: string, name: string): Waiter[] => {
    let byName = waiting.get(executionId)
    if (!byName) waiting.set(executionId, (byName = new Map()))
    let list = byName.get(name)
    if (!list) byName.set(name, (list = []))
    return list
  }

  function remove(executionId: string, name: string, waiter: Waiter): void {
    const byName = waiting.get(executionId)
    const list = byName?.get(name)
    if (!byName || !list) return
    const at = list.indexOf(waiter)
    if (at >= 0) list.splice(at, 1)
    if (list.length === 0) byName.delete(name)
    if (byName.size === 0) waiting.delete(executionId)
  }

  return {
    /** Waits for `name`'s next payload for `consumer` (`<task>#<attempt>`); a kept or already consumed one at once. */
    async wait(executionId: string, name: string, consumer: string, signal: AbortSignal): Promise<unknown> {
      journal.signals.waited(executionId, name)
      const kept = journal.signals.consume(executionId, name, consumer)
      // The consumption (or the mark of a wait) is committed before the task goes on.
      await journal.flushed()
      if (kept) return kept.payload
      signal.throwIfAborted()
      return new Promise<unknown>((resolve, reject) => {
        const waiter: Waiter = {
          consumer,
          take: (payload) => {
            signal.removeEventListener('abort', onAbort)
            resolve(payload)
          },
        }
        const onAbort = () => {
          remove(executionId, name, waiter)
          reject(signal.reason as Error)
        }
        listOf(executionId, name).push(waiter)
        signal.addEventListener('abort', onAbort, { once: true })
      })
    },
    /**
     * After a signal was recorded: the first task waiting for it consumes it; resolves once that is committed.
     * True when a waiting task took it.
     */
    async deliver(executionId: string, name: string): Promise<boolean> {
      const waiter = waiting.get(executionId)?.get(name)?.[0]
      if (!waiter) {
        await journal.flushed()
        return false
      }
      remove(executionId, name, waiter)
      const taken = journal.signals.consume(executionId, name, waiter.consumer)
      await journal.flushed()
      if (taken) waiter.take(taken.payload)
      return taken !== undefined
    },
    /** The names live tasks of the execution wait for now. */
    names: (executionId: string): Set<string> => new Set(waiting.get(executionId)?.keys() ?? []),
    /** The execution is gone from this process: its waiters with it (their tasks were stopped). */
    forget(executionId: string): void {
      waiting.delete(executionId)
    },
  }
}
export type SignalWaiters = ReturnType<typeof createSignalWaiters>
