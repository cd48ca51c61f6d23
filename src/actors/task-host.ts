import { createActor, type InspectionEvent, type Observer } from 'xstate'
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import type { TaskInput } from '../machines/task.machine.js'
import type { Gates } from './gates.js'
import type { Journal } from './journal.js'
import type { Live, TaskSlot } from './live.js'
import type { TaskLogic, TaskSnapshot } from './task-runner.js'

export type TaskHostDeps = {
  taskLogic: TaskLogic
  journal: Journal
  clock: Clock
  logger: Logger
  gates: Gates
  inspect: { inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void) }
}

/**
 * Creates and starts task actors, fresh (`input`) or restored (`snapshot`). Task actors are hosted as root actors
 * rather than XState children (see the execution machine's `startTask`): spawning and stopping children copies the
 * parent's children map, which made wide executions slow. Reports and the final output are forwarded to the execution
 * actor as events, which is all the parent/child link did.
 */
export function createTaskHost(deps: TaskHostDeps) {
  const { journal, clock, gates } = deps

  /** Sends pause/resume to a task actor; a fan-out's gate holds or releases its next elements. */
  function command(executionId: string, taskId: string, slot: TaskSlot, type: 'task.pause' | 'task.resume'): void {
    if (type === 'task.pause') gates.hold(executionId, taskId)
    else gates.release(executionId, taskId)
    if (slot.actor) slot.actor.send({ type })
    else slot.signals.push(type)
  }

  function hostTask(entry: Live, taskId: string, slot: TaskSlot, input: TaskInput, snapshot?: TaskSnapshot): void {
    const execution = entry.actor
    const executionId = execution.id
    const task = createActor(deps.taskLogic, { id: taskId, input, clock, ...(snapshot ? { snapshot } : {}), ...deps.inspect })
    slot.actor = task
    task.on('*', (report) => {
      if (!(report.type === 'task.started' && report.announced)) execution.send(report)
    })
    let last: unknown
    task.subscribe({
      next: (state) => {
        // A waiting task's snapshot goes to its row: after a restart it is restored from there.
        if (state.value !== last && (state.value === 'retrying' || state.value === 'paused')) {
          journal.recordSnapshot(executionId, taskId, task.getPersistedSnapshot())
        }
        last = state.value
      },
      complete: () => {
        gates.release(executionId, taskId)
        // `complete` also follows a stop; only a task that reached a final state has an outcome to report.
        const state = task.getSnapshot()
        if (state.status === 'done' && entry.tasks.get(taskId) === slot) execution.send({ type: 'task.done', output: state.output })
      },
      error: (error) => {
        gates.release(executionId, taskId)
        deps.logger.error('task actor crashed', { execution_id: executionId, task_id: taskId, error: String(error) })
        const failure = { message: `task actor crashed: ${String(error)}`, code: 'internal', retryable: false }
        const output = { taskId, status: 'failed' as const, attempt: (input.attempt ?? 0) + 1, output: null, error: failure }
        execution.send({ type: 'task.done', output })
      },
    })
    const queued = slot.signals.splice(0)
    for (const type of queued) if (type === 'task.pause') gates.hold(executionId, taskId)
    task.start()
    for (const type of queued) task.send({ type })
  }

  return { hostTask, command }
}
