import type { CommitBatch } from '../db/store.js'
import type { ExecutionEvent } from '../model/events.js'

/**
 * What a commit tells the other nodes (DESIGN.md "Notifications are hints"): for each execution in it, its workflow and
 * the range of seqs it committed, as one NOTIFY payload sent by the commit statement itself (so only on commit, and in
 * commit order). The event table stays the truth: a node that misses a hint catches up at its next poll.
 */

/** The channel of commit hints. */
export const EVENTS_CHANNEL = 'harmonia_events'

/** Postgres refuses payloads of 8,000 bytes or more; past this, the hint says only "look" (`*`). */
const MAX_PAYLOAD = 7_900

export type CommitHint = { execution_id: string; workflow_id: string; first: number; last: number }

/** `id,workflow,first,last;…` for the events of one commit, or `*` when that would not fit. */
export function hintPayload(
  events: readonly ExecutionEvent[],
  workflowOf: (executionId: string) => string | undefined,
): string | undefined {
  if (events.length === 0) return undefined
  const ranges = new Map<string, [number, number]>()
  for (const event of events) {
    const range = ranges.get(event.execution_id)
    if (range) range[1] = event.seq
    else ranges.set(event.execution_id, [event.seq, event.seq])
  }
  const parts: string[] = []
  let size = 0
  for (const [executionId, [first, last]] of ranges) {
    const part = `${executionId},${workflowOf(executionId) ?? ''},${first},${last}`
    size += part.length + 1
    if (size > MAX_PAYLOAD) return '*'
    parts.push(part)
  }
  return parts.join(';')
}

/** The hints of a payload; `undefined` for `*` (look at everything) or a payload that is not ours. */
export function parseHints(payload: string): CommitHint[] | undefined {
  if (payload === '*' || payload === '') return undefined
  const out: CommitHint[] = []
  for (const part of payload.split(';')) {
    const [execution_id, workflow_id, first, last] = part.split(',')
    if (execution_id === undefined || workflow_id === undefined || !/^\d+$/.test(first ?? '') || !/^\d+$/.test(last ?? '')) return undefined
    out.push({ execution_id, workflow_id, first: Number(first), last: Number(last) })
  }
  return out
}

/** The batch without the rows of `executionIds` (their owner moved on: the rest of the tick is still written). */
export function withoutExecutions(batch: CommitBatch, executionIds: ReadonlySet<string>): CommitBatch {
  const keep = (row: { execution_id: string }) => !executionIds.has(row.execution_id)
  return {
    ...batch,
    creates: batch.creates.filter((c) => !executionIds.has(c.execution.execution_id)),
    executions: batch.executions.filter(keep),
    tasks: batch.tasks.filter(keep),
    events: batch.events.filter(keep),
    timersSet: batch.timersSet.filter(keep),
    timersCleared: batch.timersCleared.filter(keep),
    states: batch.states.filter(keep),
    ...(batch.signals ? { signals: batch.signals.filter(keep) } : {}),
    ...(batch.items ? { items: batch.items.filter(keep) } : {}),
    ...(batch.itemCounts ? { itemCounts: batch.itemCounts.filter(keep) } : {}),
  }
}
