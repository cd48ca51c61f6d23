import type { ErrorInfo, EventType } from '../model/events.js'
import type { TaskStatus } from '../model/status.js'
import type { TaskOutput } from './task.machine.js'

/**
 * What goes in and out of the execution machine. Commands (sent to it) are imperative and dot-namespaced; facts
 * (emitted by it, then stamped, persisted and published by the runtime) are past tense and carry the wire names.
 */

export type ExecutionCommand =
  | { type: 'execution.start' }
  | { type: 'execution.recover' }
  | { type: 'execution.pause' }
  | { type: 'execution.resume' }
  | { type: 'execution.cancel'; reason?: string }
  | { type: 'execution.timeout' }
  | { type: 'execution.state'; state: Record<string, unknown> }
  | { type: 'execution.checkpoint'; checkpointId: string }
  | { type: 'execution.signal'; name: string; payload: unknown }

/** A task actor ended: sent by a runtime that hosts task actors itself (see the machine's `startTask`). */
export type TaskDone = { type: 'task.done'; output: TaskOutput }

/** A fact for the event log: the runtime gives it a `seq` and a timestamp, stores it, then publishes it. */
export type ExecutionFact = { type: 'fact'; event: EventType; taskId?: string; data: Record<string, unknown> }

/**
 * A change of a task's status that has no event of its own: paused while in backoff, released by resume. A release
 * back into `retrying` carries the backoff that starts over (`delayMs`), so the runtime re-arms its durable timer.
 */
export type TaskStatusFact = { type: 'task.status'; taskId: string; status: TaskStatus; delayMs?: number }

/** The execution's state was replaced: stored with the next commit (its `state_saved` fact follows). */
export type StateFact = { type: 'execution.state'; state: Record<string, unknown> }

/** A signal arrived: kept with the execution's signals (its `signal_received` fact follows). */
export type SignalFact = { type: 'execution.signal'; name: string; payload: unknown }

/** The facts that change an execution's rows (what the projection applies). */
export type RowFact = ExecutionFact | TaskStatusFact

export type Emitted = RowFact | StateFact | SignalFact

export type ExecutionOutput = { status: 'completed' | 'failed' | 'canceled'; output: unknown; error: ErrorInfo | null }

/** A fact of the execution (no `taskId`) or of one task. */
export function fact(event: EventType, data: Record<string, unknown> = {}, taskId?: string): ExecutionFact {
  return taskId === undefined ? { type: 'fact', event, data } : { type: 'fact', event, taskId, data }
}
