import type { Store, JournalEntry } from '../db/store.js'
import type { Emitted } from '../machines/execution.machine.js'
import type { ExecutionEvent } from '../model/events.js'
import type { Logger } from './logger.js'

/**
 * Persist, then publish (DESIGN.md "Durability"). Facts from every execution are stamped (seq, timestamp) as they are
 * emitted, gathered while the previous commit is in flight, and committed as one batch: group commit, so the writes
 * of one tick share one transaction. Only after a batch is committed are its events handed to listeners, in order.
 */
export type EventListener = (event: ExecutionEvent) => void

type Pending = { entries: Map<string, JournalEntry>; waiters: Array<() => void> }

export function createJournal(deps: { store: Store; now: () => number; logger: Logger; onCommitted?: (events: ExecutionEvent[]) => void }) {
  const seqs = new Map<string, number>()
  const listeners = new Map<string, Set<EventListener>>()
  let pending: Pending = { entries: new Map(), waiters: [] }
  let inFlight: Promise<void> | null = null
  let stampMs = NaN
  let stamp = ''
  /** ISO time of `now()`, formatted once per millisecond (facts come in bursts). */
  const timestamp = (): string => {
    const ms = deps.now()
    if (ms !== stampMs) {
      stampMs = ms
      stamp = new Date(ms).toISOString()
    }
    return stamp
  }
  let failure: unknown = null // the first commit error; the journal refuses further work after it

  function publish(events: ExecutionEvent[]): void {
    for (const event of events) {
      const set = listeners.get(event.execution_id)
      if (!set) continue
      for (const listener of set) {
        try {
          listener(event)
        } catch (error) {
          deps.logger.error('event listener threw', { execution_id: event.execution_id, error: String(error) })
        }
      }
    }
    deps.onCommitted?.(events)
  }

  async function drain(): Promise<void> {
    while (pending.entries.size > 0 || pending.waiters.length > 0) {
      const batch = pending
      pending = { entries: new Map(), waiters: [] }
      const entries = [...batch.entries.values()]
      try {
        if (entries.length > 0) await deps.store.commit(entries)
      } catch (error) {
        // A commit that fails leaves the store behind the actors: stop publishing and surface it loudly.
        failure = error
        deps.logger.error('journal commit failed', { error: String(error) })
      }
      if (failure === null) {
        const events: ExecutionEvent[] = []
        for (const entry of entries) for (const f of entry.facts) if (f.event) events.push(f.event)
        publish(events)
      }
      for (const done of batch.waiters) done()
    }
    inFlight = null
  }

  function schedule(): void {
    // setImmediate lets every actor finish its synchronous burst first, so one commit carries the whole tick.
    inFlight ??= new Promise<void>((resolve) => setImmediate(resolve)).then(drain)
  }

  return {
    /** Continues an execution's sequence (0 for a new one). */
    open(executionId: string, lastSeq = 0): void {
      seqs.set(executionId, lastSeq)
    },
    /** Forgets an execution's counter once it is terminal and flushed. */
    close(executionId: string): void {
      seqs.delete(executionId)
    },
    /** Stamps a fact; it is committed with the current batch. */
    record(executionId: string, fact: Emitted): void {
      const at = timestamp()
      let event: ExecutionEvent | null = null
      if (fact.type === 'fact') {
        const seq = (seqs.get(executionId) ?? 0) + 1
        seqs.set(executionId, seq)
        event = { seq, type: fact.event, execution_id: executionId, timestamp: at, data: fact.data }
        if (fact.taskId !== undefined) event.task_id = fact.taskId
      }
      let entry = pending.entries.get(executionId)
      if (!entry) {
        entry = { executionId, facts: [] }
        pending.entries.set(executionId, entry)
      }
      entry.facts.push({ fact, event, at })
      schedule()
    },
    /** Resolves once everything recorded so far is committed and published. */
    flushed(): Promise<void> {
      if (failure !== null)
        return Promise.reject(failure instanceof Error ? failure : new Error('journal commit failed', { cause: failure }))
      return new Promise((resolve) => {
        pending.waiters.push(resolve)
        schedule()
      })
    },
    listen(executionId: string, listener: EventListener): () => void {
      let set = listeners.get(executionId)
      if (!set) {
        set = new Set()
        listeners.set(executionId, set)
      }
      set.add(listener)
      return () => {
        set.delete(listener)
        if (set.size === 0) listeners.delete(executionId)
      }
    },
    get failure(): unknown {
      return failure
    },
  }
}
export type Journal = ReturnType<typeof createJournal>
