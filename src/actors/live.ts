import type { AnyActorRef } from 'xstate'
import type { ExecutionActor } from '../machines/execution.machine.js'

/** What the supervisor holds for one live execution and its task actors. */

/** A hosted task actor; `actor` is null until it is created, just after the transition that started it. */
export type TaskSlot = {
  actor: AnyActorRef | null
  /** Pause/resume commands that arrived before the actor existed, replayed when it starts. */
  signals: Array<'task.pause' | 'task.resume'>
  /** The durable retry timer of a task restored in its backoff (null otherwise). */
  wake: unknown
}

export type Live = {
  actor: ExecutionActor
  /** Resolves when the execution actor is gone and its last facts are committed. */
  done: Promise<void>
  /** The workflow timeout's timer. */
  timer: unknown
  tasks: Map<string, TaskSlot>
  /** Durable timers of this execution: loaded at recovery, added as tasks sleep (key → due time). */
  timers: Map<string, string>
}

export const newSlot = (signals: TaskSlot['signals'] = []): TaskSlot => ({ actor: null, signals, wake: null })
