import type { Store } from '../db/store.js'
import type { Logger } from '../logger.js'
import type { ExecutionEvent } from '../model/events.js'

export type EventListener = (event: ExecutionEvent) => void

/** Where the hand-out of one execution's events stands. */
type Track = { last: number; held: ExecutionEvent[]; filling: boolean }

/** Executions tracked at once, and ended ones remembered (to drop late copies of their events). */
const MAX_TRACKED = 100_000
const MAX_ENDED = 10_000
const TERMINAL = new Set(['workflow_completed', 'workflow_failed', 'workflow_canceled'])

/**
 * Who hears committed events: listeners of one execution and listeners of all. Events come from this node's journal
 * (after their commit) and from other nodes' commits (services/event-feed.ts); either way each listener gets every
 * event of an execution once and in `seq` order: a copy already handed out is dropped, and a gap (an execution that
 * moved here from another node, a hint that arrived late) is filled from the event log before anything after it.
 * `subscribe` joins the stored history with the live events.
 */
export function createListeners(deps: { events: Store['events']; logger: Logger }) {
  const byExecution = new Map<string, Set<EventListener>>()
  const everyExecution = new Set<EventListener>()
  /** Listeners of this node's own commits only (the webhook worker: each node delivers what it runs). */
  const localOnly = new Set<EventListener>()
  const tracks = new Map<string, Track>()
  const ended = new Map<string, number>()
  /** Told when someone starts listening (the event feed looks at once instead of at its next poll). */
  let onInterest: (() => void) | undefined

  function listen(executionId: string, listener: EventListener): () => void {
    let set = byExecution.get(executionId)
    if (!set) byExecution.set(executionId, (set = new Set()))
    set.add(listener)
    onInterest?.()
    return () => {
      set.delete(listener)
      if (set.size === 0) byExecution.delete(executionId)
    }
  }

  function guarded(listener: EventListener, event: ExecutionEvent): void {
    try {
      listener(event)
    } catch (error) {
      deps.logger.error('event listener threw', { execution_id: event.execution_id, error: String(error) })
    }
  }

  function emit(event: ExecutionEvent): void {
    const set = byExecution.get(event.execution_id)
    const all = set ? [...set, ...everyExecution] : everyExecution
    for (const listener of all) guarded(listener, event)
  }

  function retire(executionId: string, last: number): void {
    tracks.delete(executionId)
    ended.set(executionId, last)
    if (ended.size > MAX_ENDED) ended.delete(ended.keys().next().value!)
  }

  /** Reads the events a gap lacks, hands them out, then what was held behind them. */
  function fill(executionId: string, track: Track): void {
    track.filling = true
    deps.events
      .list(executionId, track.last)
      .then(
        (events) => {
          const before = track.held[0]?.seq ?? Infinity
          for (const event of events) {
            if (event.seq <= track.last || event.seq >= before) continue
            emit(event)
            track.last = event.seq
          }
        },
        (error: unknown) => deps.logger.warn('could not read the events of a gap', { execution_id: executionId, error: String(error) }),
      )
      .finally(() => {
        track.filling = false
        const held = track.held.sort((a, b) => a.seq - b.seq)
        track.held = []
        // What the log could not give is skipped rather than waited for forever.
        if (held.length > 0 && held[0]!.seq > track.last + 1) track.last = held[0]!.seq - 1
        for (const event of held) accept(event)
      })
  }

  function accept(event: ExecutionEvent): void {
    const id = event.execution_id
    if (!byExecution.has(id) && everyExecution.size === 0) {
      // Nobody listens: nothing to order; a listener that comes later starts from its own history.
      tracks.delete(id)
      return
    }
    if ((ended.get(id) ?? 0) >= event.seq) return
    let track = tracks.get(id)
    if (!track) {
      if (tracks.size >= MAX_TRACKED) tracks.delete(tracks.keys().next().value!)
      tracks.set(id, (track = { last: event.seq - 1, held: [], filling: false }))
    }
    if (track.filling) {
      track.held.push(event)
      return
    }
    if (event.seq <= track.last) return
    if (event.seq > track.last + 1) {
      track.held.push(event)
      fill(id, track)
      return
    }
    emit(event)
    track.last = event.seq
    if (TERMINAL.has(event.type)) retire(id, event.seq)
  }

  return {
    /**
     * Hands committed events to their listeners, in order and once each; a listener that throws is logged and skipped.
     * `remote`: committed by another node (the event feed), not for the local-only listeners.
     */
    publish(events: readonly ExecutionEvent[], remote = false): void {
      for (const event of events) {
        if (!remote) for (const listener of localOnly) guarded(listener, event)
        accept(event)
      }
    },
    /** Every event this node's journal commits, as committed (no other node's): who acts on what this node runs. */
    listenLocal: (listener: EventListener): (() => void) => {
      localOnly.add(listener)
      return () => localOnly.delete(listener)
    },
    /** The last seq handed out for an execution (undefined when not tracked). */
    position: (executionId: string): number | undefined => tracks.get(executionId)?.last ?? ended.get(executionId),
    /** Whether anyone listens to this execution's events. */
    wanted: (executionId: string): boolean => everyExecution.size > 0 || byExecution.has(executionId),
    /** Executions with a listener of their own. */
    watched: (): string[] => [...byExecution.keys()],
    /** Calls `callback` whenever a listener is added. */
    onInterest: (callback: () => void): void => {
      onInterest = callback
    },
    /** Whether anyone listens to every execution. */
    get listeningAll(): boolean {
      return everyExecution.size > 0
    },
    listen,
    /** Every committed event of every execution (live only), for dashboards. */
    listenAll: (listener: EventListener): (() => void) => {
      everyExecution.add(listener)
      onInterest?.()
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
