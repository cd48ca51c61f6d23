import { createActor, type InspectionEvent, type Observer } from 'xstate'
import { after, type Clock } from '../clock.js'
import type { RecoveryRecord, TaskRow, TimerRow } from '../db/store.js'
import { taskInputOf, type ExecutionContext, type ExecutionInput } from '../machines/execution.context.js'
import type { executionMachine, ExecutionActor } from '../machines/execution.machine.js'
import { ledgerFromRows } from '../machines/ledger.js'
import { planOf } from '../machines/plan.js'
import type { TaskContext, TaskInput } from '../machines/task.machine.js'
import type { Journal } from './journal.js'
import { newSlot, type Live, type TaskSlot } from './live.js'
import type { TaskLogic, TaskSnapshot } from './task-runner.js'
import { retryKey } from './timer-keys.js'

/** What recovery needs of the supervisor that hosts the actors it rebuilds. */
export type RecoveryHost = {
  machine: typeof executionMachine
  taskLogic: TaskLogic
  journal: Journal
  clock: Clock
  now: () => number
  seed: () => number
  inspect: { inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void) }
  register(executionId: string, actor: ExecutionActor, timers: readonly TimerRow[]): Live
  hostTask(entry: Live, taskId: string, slot: TaskSlot, input: TaskInput, snapshot?: TaskSnapshot): void
  armTimeout(entry: Live): void
  stopLocally(executionId: string): void
}

/** A task actor's persisted snapshot, as kept in its row while it waits. */
type StoredTaskSnapshot = { value: 'retrying' | 'paused'; context: TaskContext }

const ACTIVE = new Set(['running', 'retrying', 'paused'])

/**
 * Brings back a non-terminal execution from its stored rows after a restart (DESIGN.md "Recovery"). The execution
 * actor is resolved from its status and a ledger rebuilt from the task rows (the ledger lives in the rows, not in one
 * blob that would grow with the DAG on every write). Tasks that were running are attempted again with the same
 * attempt number and idempotency key; waiting ones are restored from their snapshots and woken by their durable
 * timers; the workflow timeout is re-armed with the time that remains.
 */
export function restoreExecution(record: RecoveryRecord, host: RecoveryHost): void {
  const { execution, definition } = record
  const executionId = execution.execution_id
  const context: ExecutionContext = {
    executionId,
    workflowId: execution.workflow_id,
    workflowVersion: execution.workflow_version,
    definition,
    input: execution.input,
    state: record.state,
    ledger: ledgerFromRows(definition, record.tasks, host.seed()),
    output: null,
    error: null,
    outcome: null,
  }
  const snapshot = host.machine.resolveState({ value: execution.status, context })
  // XState's types ask for `input` next to a snapshot; it is the execution's own input (unused: the snapshot wins).
  const input: ExecutionInput = { ...context, seed: context.ledger.rng }
  const actor = createActor(host.machine, { id: executionId, snapshot, input, clock: host.clock, ...host.inspect })
  host.journal.open(execution, {
    epoch: record.epoch,
    lastSeq: record.last_seq,
    tasks: record.tasks,
    timers: record.timers,
    ...(record.signals ? { signals: record.signals } : {}),
    onStale: () => host.stopLocally(executionId),
  })
  const entry = host.register(executionId, actor, record.timers)
  actor.start()
  const plan = planOf(definition)
  for (const row of record.tasks) {
    const i = plan.index.get(row.task_id)
    if (i !== undefined && ACTIVE.has(row.status)) rehostTask(host, entry, context, row, i, execution.status === 'paused')
  }
  host.armTimeout(entry)
  actor.send({ type: execution.status === 'pending' ? 'execution.start' : 'execution.recover' })
}

/**
 * The rest of a wait for a callback that a restart interrupted (the component answered 202 for this very attempt):
 * the attempt resumes waiting, with what is left of its deadline, and the component is not called again.
 */
function resumedWait(row: TaskRow, now: number): TaskInput['resume'] {
  const awaiting = row.awaiting
  if (!awaiting || row.status !== 'running' || awaiting.attempt !== row.attempts) return undefined
  return awaiting.deadline === null ? {} : { timeoutMs: Math.max(1, Date.parse(awaiting.deadline) - now) }
}

function rehostTask(host: RecoveryHost, entry: Live, context: ExecutionContext, row: TaskRow, i: number, paused: boolean): void {
  const base = taskInputOf(context, i, row.input, Math.max(0, row.attempts - 1), host.seed())
  const resume = resumedWait(row, host.now())
  const input: TaskInput = resume === undefined ? base : { ...base, resume }
  // A paused execution's running attempts hold whatever follows them, as they did before the restart.
  const slot = newSlot(paused && row.status === 'running' ? ['task.pause'] : [])
  entry.tasks.set(row.task_id, slot)
  if (row.status === 'running' || row.snapshot === null) {
    host.hostTask(entry, row.task_id, slot, input)
    return
  }
  const stored = row.snapshot as StoredTaskSnapshot
  host.hostTask(entry, row.task_id, slot, input, host.taskLogic.resolveState({ value: stored.value, context: stored.context }))
  if (row.status !== 'retrying') return
  const due = entry.timers.get(retryKey(row.task_id))
  const wait = due === undefined ? 0 : Math.max(0, Date.parse(due) - host.now())
  slot.wake = after(host.clock, wait, () => {
    slot.wake = null
    slot.actor?.send({ type: 'task.retry' })
  })
}
