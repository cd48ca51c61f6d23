/**
 * Signals of one execution (API.md "Signals and approvals"): for each name, whether a task has waited for it and every
 * payload received, with the attempt that consumed it. Kept in the journal's view of a live execution and committed
 * whole (signals of one execution are few). A payload is consumed exactly once: the consumer (`<task>#<attempt>`) is
 * recorded before the waiting task sees it, so the same attempt re-run after a restart gets the same payload again.
 */
import { getOwn, setOwn } from '../json.js'
import type { SignalDoc, SignalSummary } from '../model/signals.js'

const entryOf = (doc: SignalDoc, name: string) => {
  if (!Object.hasOwn(doc, name)) setOwn<SignalDoc[string]>(doc, name, { waited: false, received: [] })
  return doc[name]!
}

/** Adds a received payload. */
export function receive(doc: SignalDoc, name: string, payload: unknown, at: string): void {
  entryOf(doc, name).received.push({ payload, received_at: at, consumed_by: null })
}

/** Marks the name as waited for (kept after the wait ends). */
export function markWaited(doc: SignalDoc, name: string): void {
  entryOf(doc, name).waited = true
}

/**
 * The payload for `consumer`: the one it consumed already (a re-run of the same attempt), else the oldest one nobody
 * consumed, which it now consumes. Undefined when there is none: the consumer waits.
 */
export function consume(doc: SignalDoc, name: string, consumer: string): { payload: unknown; fresh: boolean } | undefined {
  const entry = getOwn(doc, name)
  if (!entry) return undefined
  const mine = entry.received.find((r) => r.consumed_by === consumer)
  if (mine) return { payload: mine.payload, fresh: false }
  const next = entry.received.find((r) => r.consumed_by === null)
  if (!next) return undefined
  next.consumed_by = consumer
  return { payload: next.payload, fresh: true }
}

/** The API's list; `waitingNames` are the names a live task waits for now. */
export function summarize(doc: SignalDoc, waitingNames: ReadonlySet<string>): SignalSummary[] {
  const names = new Set([...Object.keys(doc), ...waitingNames])
  return [...names].map((name) => ({
    name,
    waiting: waitingNames.has(name),
    received: (getOwn(doc, name)?.received ?? []).map((r) => r.payload),
  }))
}
