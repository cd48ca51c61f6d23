import type { WorkflowDefinition } from '../model/definition.js'
import type { ExecutionEvent } from '../model/events.js'
import type { Execution } from '../model/resources.js'
import type { Journal } from './journal.js'
import type { Live } from './live.js'

/**
 * A committed event of an execution this node runs, with what the event does not carry: the execution's in-memory
 * rows (the task's start and end times) and its definition (workflow name, each task's component and dependencies).
 * For observers — metrics and traces — that must not query the store per event.
 */
export type ObservedEvent = {
  event: ExecutionEvent
  execution: Execution
  definition: WorkflowDefinition
}

/** Calls `listener` with each event this node commits, once committed; returns the unsubscribe. */
export function observeLocal(journal: Journal, live: ReadonlyMap<string, Live>, listener: (observed: ObservedEvent) => void): () => void {
  return journal.listenLocal((event) => {
    const execution = journal.view(event.execution_id)
    const definition = live.get(event.execution_id)?.actor.getSnapshot().context.definition
    if (execution && definition) listener({ event, execution, definition })
  })
}

/** Task actors in their `running` state across the live executions (a fan-out counts once). */
export function countRunningTasks(live: ReadonlyMap<string, Live>): number {
  let running = 0
  for (const entry of live.values()) for (const slot of entry.tasks.values()) if (slot.actor?.getSnapshot().value === 'running') running++
  return running
}
