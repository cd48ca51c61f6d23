import { EVENTS_CHANNEL, parseHints, type CommitHint } from '../actors/commit-hints.js'
import type { Journal } from '../actors/journal.js'
import type { Supervisor } from '../actors/supervisor.js'
import type { ClusterStore } from '../db/store.js'
import type { Logger } from '../logger.js'
import { createIntervals } from './intervals.js'

/**
 * Other nodes' events for this node's listeners (API.md "Several nodes": an SSE/WebSocket client on any node receives
 * the events of every execution, in order, without gaps). Each commit carries a NOTIFY hint (commit-hints.ts); on one,
 * the feed reads the events its listeners lack from the event table and hands them to the listeners (listeners.ts keeps
 * them in order and once each). The table is the truth: every second the feed also compares where executions stand
 * (`last_seq`) with what was handed out, so a lost notification — or none at all — only delays.
 */
export function createEventFeed(
  deps: { cluster: ClusterStore; supervisor: Supervisor; journal: Journal; logger: Logger },
  options: { pollMs?: number; notifications?: boolean } = {},
) {
  const { cluster, supervisor, journal, logger } = deps
  const workflows = new Map<string, string>()
  /** Where each execution stood at the last look, for the all-executions listeners ("live only": from then on). */
  let baseline: Map<string, number> | null = null
  const intervals = createIntervals()
  let unlisten: (() => Promise<void>) | undefined
  let polling: Promise<void> | null = null

  const remember = (executionId: string, workflowId: string) => {
    if (workflowId === '') return
    workflows.set(executionId, workflowId)
    if (workflows.size > 100_000) workflows.delete(workflows.keys().next().value!)
  }

  /** Reads and hands out the events after what listeners have, for executions not live here (those publish themselves). */
  async function fetch(ranges: Array<{ execution_id: string; after: number; last: number }>): Promise<void> {
    const cursors: Array<{ execution_id: string; after: number }> = []
    for (const range of ranges) {
      if (supervisor.isLive(range.execution_id) || !journal.listeners.wanted(range.execution_id)) continue
      const position = journal.listeners.position(range.execution_id)
      const after = position === undefined ? range.after : Math.max(position, 0)
      if (after < range.last) cursors.push({ execution_id: range.execution_id, after })
    }
    if (cursors.length === 0) return
    journal.publishRemote(await cluster.eventsAfter(cursors))
  }

  function onHints(hints: CommitHint[]): void {
    for (const hint of hints) remember(hint.execution_id, hint.workflow_id)
    const ranges = hints.map((h) => ({ execution_id: h.execution_id, after: h.first - 1, last: h.last }))
    fetch(ranges).catch((error: unknown) => logger.warn('reading hinted events failed', { error: String(error) }))
  }

  /** The truth behind the hints: where executions stand against what listeners have. */
  function poll(): Promise<void> {
    polling ??= (async () => {
      // Not before the assignment above: a body that returned synchronously would clear `polling` too early.
      await Promise.resolve()
      try {
        const all = journal.listeners.all()
        const watched = journal.listeners.watched().filter((id) => !supervisor.isLive(id))
        if (!all && watched.length === 0) {
          baseline = null
          return
        }
        const heads = all ? await cluster.heads({}) : await cluster.heads({ ids: watched })
        const ranges: Array<{ execution_id: string; after: number; last: number }> = []
        const next = new Map<string, number>()
        for (const head of heads) {
          remember(head.execution_id, head.workflow_id)
          next.set(head.execution_id, head.last_seq)
          const known =
            journal.listeners.position(head.execution_id) ??
            (all ? (baseline?.get(head.execution_id) ?? (baseline ? 0 : head.last_seq)) : 0)
          if (known < head.last_seq) ranges.push({ execution_id: head.execution_id, after: known, last: head.last_seq })
        }
        if (all) baseline = next
        await fetch(ranges)
      } catch (error) {
        logger.warn('event feed poll failed', { error: String(error) })
      } finally {
        polling = null
      }
    })()
    return polling
  }

  return {
    /** The workflow of an execution whose events came from another node (for `?workflow_id=` filters). */
    workflowOf: (executionId: string): string | undefined => workflows.get(executionId),
    async start(): Promise<void> {
      if (options.notifications ?? true) {
        unlisten = await cluster.listen(
          EVENTS_CHANNEL,
          (payload) => {
            const hints = parseHints(payload)
            if (hints) onHints(hints)
            else void poll()
          },
          // (Re)connected: whatever was committed while the connection was down is read now.
          () => void poll(),
        )
      }
      // A new listener: look now (an all-executions one takes "now" as its start), not at the next poll.
      journal.listeners.onInterest(() => void poll())
      intervals.every(options.pollMs ?? 1000, () => void poll())
    },
    /** Looks at once (a listener for an execution held elsewhere has just subscribed). */
    poll,
    async stop(): Promise<void> {
      intervals.clear()
      await polling
      await unlisten?.().catch(() => {})
    },
  }
}
export type EventFeed = ReturnType<typeof createEventFeed>
