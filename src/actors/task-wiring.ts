import { TRACEPARENT_KEY } from '../model/trace-context.js'
import type { Callbacks } from './callbacks.js'
import type { Gates } from './gates.js'
import type { Live } from './live.js'
import type { SupervisorDeps } from './supervisor.js'
import type { SignalWaiters } from './signal-waiters.js'
import { createTaskLogic, type TaskLogic } from './task-runner.js'

/**
 * The task runner as the supervisor hosts it: component calls go through the registry and the process-wide slot
 * limit, and everything an attempt must remember (fan-out elements, a 202's wait, durable sleeps) goes through the
 * journal of the execution it belongs to.
 */
export function wireTaskLogic(
  deps: Pick<SupervisorDeps, 'store' | 'journal' | 'registry' | 'clock' | 'now' | 'random' | 'logger' | 'semaphore'> & {
    live: Map<string, Live>
    callbacks: Callbacks
    signals: SignalWaiters
    gates: Gates
    mayRun: (executionId: string) => boolean
  },
): TaskLogic {
  const { journal, live, callbacks, signals, gates, clock } = deps
  return createTaskLogic({
    callbacks,
    signals,
    fanOut: {
      random: deps.random,
      items: {
        load: (executionId, taskId) => deps.store.taskItems.list(executionId, taskId),
        record: (executionId, taskId, change) => journal.recordItem(executionId, taskId, change),
        open: (executionId, taskId, signal) => gates.open(executionId, taskId, signal),
      },
    },
    awaiting: {
      remember: async (executionId, taskId, attempt, deadline) => {
        journal.recordAwaiting(executionId, taskId, { attempt, deadline })
        await journal.flushed()
      },
    },
    registry: deps.registry,
    mayRun: deps.mayRun,
    created: (executionId) => journal.createdCommit(executionId),
    traceparentOf: (executionId) => {
      const stored = journal.view(executionId)?.metadata[TRACEPARENT_KEY]
      return typeof stored === 'string' ? stored : undefined
    },
    semaphore: deps.semaphore,
    logger: deps.logger,
    clock,
    now: deps.now,
    timers: {
      dueAt: (executionId, key) => live.get(executionId)?.timers.get(key),
      remember: async (executionId, key, dueAt) => {
        const entry = live.get(executionId)
        if (!entry) return
        entry.timers.set(key, dueAt)
        journal.setTaskTimer(executionId, key, dueAt)
        await journal.flushed()
      },
    },
  })
}
