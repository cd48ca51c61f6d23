import { and, assign, emit, enqueueActions, setup, type ActorRefFrom, type DoneActorEvent } from 'xstate'
import type { TaskFailure } from '../errors.js'
import { evaluateCondition, evaluateValue, type Scope, type TaskView } from '../expressions/index.js'
import type { WorkflowDefinition } from '../model/definition.js'
import type { ErrorInfo, EventType } from '../model/events.js'
import type { CarriedTask } from '../model/resources.js'
import type { SkipReason, TaskStatus } from '../model/status.js'
import { nextRandom } from './backoff.js'
import { planOf, type Plan } from './plan.js'
import { taskMachine, type TaskInput, type TaskOutput, type TaskReport } from './task.machine.js'

/**
 * The execution supervisor: holds the DAG, spawns a task actor when a task's dependencies are settled, enforces
 * `max_concurrency`, resolves each task's input at spawn time, and decides the final status and output.
 *
 * Only active tasks have a live child actor (STACK.md §2(e): a parent holding thousands of children is quadratic);
 * pending and finished tasks are records in the ledger.
 *
 * The ledger is mutated in place by this machine's actions. That is deliberate: copying a 10,000-entry record on
 * every task transition would make an execution quadratic in its size. The ledger is plain JSON, owned by exactly one
 * actor, and only ever changed inside this machine's own transitions, so the machine stays deterministic and
 * replayable; what it gives up is that an old snapshot object does not keep its old ledger.
 *
 * The machine decides facts and emits them (`actor.on('*')`); the runtime stamps, persists and publishes them.
 */

export type ExecutionInput = {
  executionId: string
  workflowId: string
  workflowVersion: number
  definition: WorkflowDefinition
  input: Record<string, unknown>
  state?: Record<string, unknown>
  /** PRNG seed from the runtime's random source; task jitter seeds derive from it. */
  seed: number
  /** Tasks whose results carry over (a restored checkpoint, a rerun of a failed execution). */
  carried?: Record<string, CarriedTask>
}

/** The supervisor's record of one task, index-aligned with the definition's tasks. */
export type LedgerEntry = {
  status: TaskStatus
  attempts: number
  output: unknown
  error: TaskFailure | null
  /** Dependencies not yet settled. */
  remaining: number
  /** A live child actor exists for this task. */
  live: boolean
  /** The input resolved at spawn time. */
  input?: unknown
  skip?: SkipReason
}

export type Ledger = {
  tasks: LedgerEntry[]
  ready: number[]
  readyHead: number
  live: number
  settled: number
  failed: number
  rng: number
}

export type ExecutionContext = {
  executionId: string
  workflowId: string
  workflowVersion: number
  definition: WorkflowDefinition
  input: Record<string, unknown>
  state: Record<string, unknown>
  ledger: Ledger
  output: unknown
  error: ErrorInfo | null
  outcome: ExecutionOutput['status'] | null
}

export type ExecutionCommand =
  | { type: 'execution.start' }
  | { type: 'execution.recover' }
  | { type: 'execution.pause' }
  | { type: 'execution.resume' }
  | { type: 'execution.cancel'; reason?: string }
  | { type: 'execution.timeout' }
  | { type: 'execution.state'; state: Record<string, unknown> }

/** A task actor ended: sent by a runtime that hosts task actors itself (see `startTask`). */
export type TaskDone = { type: 'task.done'; output: TaskOutput }

export type ExecutionMachineEvent = ExecutionCommand | TaskReport | TaskDone | DoneActorEvent<TaskOutput, string>

/** What `startTask` receives: the task actor's id (the task id) and its input. */
export type StartTaskParams = { taskId: string; input: TaskInput }

/** A fact for the event log: the runtime gives it a `seq` and a timestamp, stores it, then publishes it. */
export type ExecutionFact = { type: 'fact'; event: EventType; taskId?: string; data: Record<string, unknown> }
/** A change of a task's status that has no event of its own (paused while in backoff, released by resume). */
export type TaskStatusFact = { type: 'task.status'; taskId: string; status: TaskStatus }
export type Emitted = ExecutionFact | TaskStatusFact

export type ExecutionOutput = { status: 'completed' | 'failed' | 'canceled'; output: unknown; error: ErrorInfo | null }

const BLOCKING: ReadonlySet<TaskStatus> = new Set(['failed', 'canceled'])

function fact(event: EventType, data: Record<string, unknown> = {}, taskId?: string): ExecutionFact {
  return taskId === undefined ? { type: 'fact', event, data } : { type: 'fact', event, taskId, data }
}

/** The scope expressions see: `tasks` is a lookup so that evaluation never touches unreferenced tasks. */
export function scopeOf(context: ExecutionContext, plan: Plan = planOf(context.definition)): Scope {
  return {
    input: context.input,
    state: context.state,
    execution: { id: context.executionId, execution_id: context.executionId, workflow_id: context.workflowId },
    workflow: { id: context.workflowId, workflow_id: context.workflowId, name: context.definition.name, version: context.workflowVersion },
    tasks: (taskId: string): TaskView | undefined => {
      const i = plan.index.get(taskId)
      const rec = i === undefined ? undefined : context.ledger.tasks[i]
      return rec && { output: rec.output ?? null, status: rec.status, error: rec.error }
    },
  }
}

function createLedger(definition: WorkflowDefinition, seed: number, carried: Record<string, CarriedTask> = {}): Ledger {
  const plan = planOf(definition)
  const tasks: LedgerEntry[] = plan.ids.map((id, i) => {
    const kept = Object.hasOwn(carried, id) ? carried[id] : undefined
    if (kept) return { status: 'completed', attempts: kept.attempts, output: kept.output, error: null, remaining: 0, live: false }
    const open = plan.deps[i]!.filter((d) => !Object.hasOwn(carried, plan.ids[d]!)).length
    return { status: 'pending', attempts: 0, output: null, error: null, remaining: open, live: false }
  })
  const ready: number[] = []
  tasks.forEach((rec, i) => {
    if (rec.status === 'pending' && rec.remaining === 0) ready.push(i)
  })
  const settled = tasks.filter((t) => t.status === 'completed').length
  return { tasks, ready, readyHead: 0, live: 0, settled, failed: 0, rng: seed >>> 0 }
}

/** A stored task row, as far as the supervisor needs it to rebuild its ledger. */
export type StoredTask = {
  task_id: string
  status: TaskStatus
  attempts: number
  input: unknown
  output: unknown
  error: TaskFailure | null
  skip: SkipReason | null
}

/**
 * Rebuilds the ledger from stored task rows (recovery). Tasks that were active (running, retrying, paused) are
 * marked live: the runtime re-hosts their actors. Settled tasks stay settled; pending tasks whose dependencies are
 * settled are ready again.
 */
export function ledgerFromRows(definition: WorkflowDefinition, rows: StoredTask[], seed: number): Ledger {
  const plan = planOf(definition)
  const byId = new Map(rows.map((r) => [r.task_id, r]))
  const tasks: LedgerEntry[] = plan.ids.map((id) => {
    const row = byId.get(id)
    const status = row?.status ?? 'pending'
    const live = status === 'running' || status === 'retrying' || status === 'paused'
    const rec: LedgerEntry = { status, attempts: row?.attempts ?? 0, output: row?.output ?? null, error: row?.error ?? null, remaining: 0, live, input: row?.input }
    if (row?.skip) rec.skip = row.skip
    return rec
  })
  const unblocks = (rec: LedgerEntry) => rec.status === 'completed' || (rec.status === 'skipped' && rec.skip === 'condition')
  const ready: number[] = []
  let settled = 0
  let failed = 0
  let live = 0
  tasks.forEach((rec, i) => {
    if (rec.live) live++
    if (rec.status === 'completed' || rec.status === 'failed' || rec.status === 'skipped' || rec.status === 'canceled') settled++
    if (rec.status === 'failed') failed++
    if (rec.status === 'pending') {
      rec.remaining = plan.deps[i]!.filter((d) => !unblocks(tasks[d]!)).length
      if (rec.remaining === 0) ready.push(i)
    }
  })
  return { tasks, ready, readyHead: 0, live, settled, failed, rng: seed >>> 0 }
}

/**
 * Settles task `i` and releases or skips its dependents, iteratively (a 10,000-task chain must not recurse).
 * Facts for cascaded skips are pushed through `out`.
 */
function settle(plan: Plan, ledger: Ledger, i: number, status: TaskStatus, out: Emitted[], skip?: SkipReason): void {
  const stack: Array<[number, TaskStatus, SkipReason | undefined]> = [[i, status, skip]]
  while (stack.length > 0) {
    const [k, st, why] = stack.pop()!
    const rec = ledger.tasks[k]!
    rec.status = st
    if (why) rec.skip = why
    ledger.settled++
    if (st === 'failed') ledger.failed++
    const blocks = BLOCKING.has(st) || (st === 'skipped' && why === 'upstream')
    for (const j of plan.dependents[k]!) {
      const dep = ledger.tasks[j]!
      if (dep.status !== 'pending' || dep.live) continue
      if (blocks) {
        // Mark now so that a second failed parent does not skip it twice.
        dep.status = 'skipped'
        out.push(fact('task_skipped', { reason: `upstream task ${plan.ids[k]} ${st === 'skipped' ? 'was skipped' : st}` }, plan.ids[j]))
        stack.push([j, 'skipped', 'upstream'])
      } else if (--dep.remaining === 0) {
        ledger.ready.push(j)
      }
    }
  }
}

/**
 * A reference to one of this machine's own named actions, for `enqueue(...)` inside another action. XState resolves it
 * against the machine's (possibly provided) implementations; its types cannot see the actions of the same `setup()`.
 */
function named<P>(type: 'startTask' | 'stopTask' | 'signalTask', params: P): never {
  return { type, params } as never
}

function flush(publish: (e: Emitted) => void, out: Emitted[]): void {
  for (const e of out) publish(e)
  out.length = 0
}

function asErrorInfo(error: unknown, code: string): ErrorInfo {
  return { message: error instanceof Error ? error.message : String(error), code, retryable: false }
}

export const executionMachine = setup({
  types: {
    input: {} as ExecutionInput,
    context: {} as ExecutionContext,
    events: {} as ExecutionMachineEvent,
    emitted: {} as Emitted,
    output: {} as ExecutionOutput,
  },
  actors: { task: taskMachine },
  guards: {
    allSettled: ({ context }) => context.ledger.settled === context.ledger.tasks.length,
    anyFailed: ({ context }) => context.ledger.failed > 0,
    failFastTriggered: ({ context }) => context.definition.fail_fast && context.ledger.failed > 0,
    outputEvaluates: ({ context }) => {
      const plan = planOf(context.definition)
      try {
        evaluateValue(plan.compiled.output, scopeOf(context, plan))
        return true
      } catch {
        return false
      }
    },
  },
  actions: {
    /**
     * Task actors are spawned, stopped and signalled through these three actions. By default they are children of
     * this actor (a self-contained tree, handy to embed and inspect). The runtime provides its own, hosting task actors
     * as root actors: XState copies a parent's children map on every spawn and stop, which costs O(live children) per
     * task (STACK.md §2(e)); root actors keep that cost flat at any max_concurrency.
     */
    startTask: enqueueActions(({ enqueue }, params: StartTaskParams) => {
      enqueue.spawnChild('task', { id: params.taskId, input: params.input })
    }),
    stopTask: enqueueActions(({ enqueue }, params: { taskId: string }) => {
      enqueue.stopChild(params.taskId)
    }),
    signalTask: enqueueActions(({ enqueue }, params: { taskId: string; command: 'task.pause' | 'task.resume' }) => {
      enqueue.sendTo(params.taskId, { type: params.command })
    }),
    /** Starts ready tasks while the concurrency limit allows; skips or fails those whose condition or input says so. */
    schedule: enqueueActions(({ context, enqueue }) => {
      const plan = planOf(context.definition)
      const { ledger } = context
      const limit = context.definition.max_concurrency
      const out: Emitted[] = []
      let scope: Scope | undefined
      while (ledger.live < limit && ledger.readyHead < ledger.ready.length) {
        const i = ledger.ready[ledger.readyHead++]!
        const rec = ledger.tasks[i]!
        if (rec.status !== 'pending' || rec.live) continue
        const id = plan.ids[i]!
        const compiled = plan.compiled.tasks[i]!
        let input: unknown
        try {
          scope ??= scopeOf(context, plan)
          if (compiled.when !== undefined && !evaluateCondition(compiled.when, scope)) {
            out.push(fact('task_skipped', { reason: 'condition is false' }, id))
            rec.output = null
            settle(plan, ledger, i, 'skipped', out, 'condition')
            continue
          }
          input = evaluateValue(compiled.input, scope)
        } catch (error) {
          rec.error = asErrorInfo(error, 'expression')
          out.push(fact('task_failed', { attempt: 0, error: rec.error }, id))
          settle(plan, ledger, i, 'failed', out)
          continue
        }
        const task = context.definition.tasks[i]!
        const draw = nextRandom(ledger.rng)
        ledger.rng = draw.state
        rec.live = true
        rec.input = input
        rec.status = 'running'
        rec.attempts++
        ledger.live++
        // The child enters `running` as it starts: its first attempt is announced here, which saves an event per task.
        out.push(fact('task_started', { attempt: rec.attempts, input }, id))
        enqueue(
          named<StartTaskParams>('startTask', {
            taskId: id,
            input: {
            executionId: context.executionId,
            taskId: id,
            component: task.component,
            action: task.action,
            input,
            policy: plan.policies[i]!,
            timeoutMs: plan.timeoutsMs[i],
            seed: Math.floor(draw.value * 4294967296),
            attempt: rec.attempts - 1,
            },
          }),
        )
      }
      flush((e) => enqueue.emit(e), out)
    }),
    /** Records a report from a task actor and turns it into a fact. */
    recordReport: enqueueActions(({ context, event, enqueue }) => {
      const report = event as TaskReport
      const plan = planOf(context.definition)
      const i = plan.index.get(report.taskId)
      if (i === undefined) return
      const rec = context.ledger.tasks[i]!
      switch (report.type) {
        case 'task.started':
          rec.status = 'running'
          rec.attempts = report.attempt
          enqueue.emit(fact('task_started', { attempt: report.attempt }, report.taskId))
          return
        case 'task.retrying':
          rec.status = 'retrying'
          rec.error = report.error
          enqueue.emit(fact('task_retrying', { attempt: report.attempt, error: report.error, delay_ms: report.delayMs }, report.taskId))
          return
        case 'task.paused':
          rec.status = 'paused'
          if (report.error) rec.error = report.error
          enqueue.emit({ type: 'task.status', taskId: report.taskId, status: 'paused' })
          return
        case 'task.resumed':
          rec.status = rec.error ? 'retrying' : 'pending'
          enqueue.emit({ type: 'task.status', taskId: report.taskId, status: rec.status })
          return
      }
    }),
    /** A task actor finished: stop it, settle the task, release or skip its dependents. */
    recordTaskDone: enqueueActions(({ context, event, enqueue }) => {
      const result = (event as TaskDone).output
      const plan = planOf(context.definition)
      const i = plan.index.get(result.taskId)
      if (i === undefined) return
      const rec = context.ledger.tasks[i]!
      enqueue(named('stopTask', { taskId: result.taskId }))
      if (!rec.live) return
      rec.live = false
      context.ledger.live--
      rec.attempts = result.attempt
      const out: Emitted[] = []
      if (result.status === 'completed') {
        rec.output = result.output
        rec.error = null
        out.push(fact('task_completed', { attempt: result.attempt, output: result.output }, result.taskId))
      } else if (result.status === 'failed') {
        rec.error = result.error
        out.push(fact('task_failed', { attempt: result.attempt, error: result.error }, result.taskId))
      } else {
        out.push(fact('task_canceled', { reason: result.error?.message ?? 'canceled' }, result.taskId))
      }
      settle(plan, context.ledger, i, result.status, out)
      flush((e) => enqueue.emit(e), out)
    }),
    /** Stops every live task actor (its AbortSignal fires) and settles every unfinished task as canceled. */
    cancelRest: enqueueActions(({ context, enqueue }, params: { reason: string }) => {
      const plan = planOf(context.definition)
      const { ledger } = context
      ledger.tasks.forEach((rec, i) => {
        if (rec.status === 'completed' || rec.status === 'failed' || rec.status === 'skipped' || rec.status === 'canceled') return
        const id = plan.ids[i]!
        if (rec.live) {
          enqueue(named('stopTask', { taskId: id }))
          rec.live = false
          ledger.live--
        }
        rec.status = 'canceled'
        ledger.settled++
        enqueue.emit(fact('task_canceled', { reason: params.reason }, id))
      })
    }),
    broadcast: enqueueActions(({ context, enqueue }, params: { command: 'task.pause' | 'task.resume' }) => {
      const plan = planOf(context.definition)
      context.ledger.tasks.forEach((rec, i) => {
        if (rec.live) enqueue(named('signalTask', { taskId: plan.ids[i]!, command: params.command }))
      })
    }),
    emitFact: emit((_, params: { event: EventType }) => fact(params.event)),
    emitStarted: emit(({ context }) => fact('workflow_started', { input: context.input })),
    computeOutput: assign(({ context }) => {
      const plan = planOf(context.definition)
      try {
        return { output: evaluateValue(plan.compiled.output, scopeOf(context, plan)) }
      } catch (error) {
        return { error: { ...asErrorInfo(error, 'expression'), message: `output: ${asErrorInfo(error, 'expression').message}` } }
      }
    }),
    settleExecution: assign((_, params: { outcome: ExecutionOutput['status'] }) => ({ outcome: params.outcome })),
    failedTasksError: assign(({ context }) => {
      const plan = planOf(context.definition)
      const failed = plan.ids.filter((_, i) => context.ledger.tasks[i]!.status === 'failed')
      const shown = failed.slice(0, 10).join(', ') + (failed.length > 10 ? `, … (${failed.length} in all)` : '')
      return { error: { message: `task${failed.length === 1 ? '' : 's'} failed: ${shown}`, code: 'task_failed', retryable: false } }
    }),
    timeoutError: assign({
      error: ({ context }) => ({ message: `execution timed out after ${context.definition.timeout ?? 0}s`, code: 'timeout', retryable: false }),
    }),
    setState: assign({ state: ({ event }) => (event as { state: Record<string, unknown> }).state }),
  },
}).createMachine({
  id: 'execution',
  context: ({ input }) => ({
    executionId: input.executionId,
    workflowId: input.workflowId,
    workflowVersion: input.workflowVersion,
    definition: input.definition,
    input: input.input,
    state: input.state ?? {},
    ledger: createLedger(input.definition, input.seed, input.carried),
    output: null,
    error: null,
    outcome: null,
  }),
  initial: 'pending',
  on: {
    'execution.state': { actions: 'setState' },
  },
  states: {
    pending: {
      on: {
        'execution.start': { target: 'running', actions: 'emitStarted' },
        'execution.pause': { target: 'paused', actions: [{ type: 'emitFact', params: { event: 'workflow_paused' } }] },
        'execution.cancel': { target: 'canceled', actions: { type: 'cancelRest', params: { reason: 'execution canceled' } } },
      },
    },
    running: {
      entry: 'schedule',
      always: [
        { guard: 'failFastTriggered', target: 'failed', actions: [{ type: 'cancelRest', params: { reason: 'fail_fast: another task failed' } }, 'failedTasksError'] },
        { guard: and(['allSettled', 'anyFailed']), target: 'failed', actions: 'failedTasksError' },
        { guard: and(['allSettled', 'outputEvaluates']), target: 'completed', actions: 'computeOutput' },
        // The output mapping cannot be evaluated (say it reads the output of a skipped task): computeOutput records why.
        { guard: 'allSettled', target: 'failed', actions: 'computeOutput' },
      ],
      on: {
        'task.*': { actions: 'recordReport' },
        'xstate.done.actor.*': { actions: ['recordTaskDone', 'schedule'] },
        'task.done': { actions: ['recordTaskDone', 'schedule'] },
        // Restoring does not re-run entry actions: after a restart the runtime asks for the ready tasks explicitly.
        'execution.recover': { actions: 'schedule' },
        'execution.pause': {
          target: 'paused',
          actions: [{ type: 'emitFact', params: { event: 'workflow_paused' } }, { type: 'broadcast', params: { command: 'task.pause' } }],
        },
        'execution.cancel': { target: 'canceled', actions: { type: 'cancelRest', params: { reason: 'execution canceled' } } },
        'execution.timeout': { target: 'failed', actions: [{ type: 'cancelRest', params: { reason: 'execution timed out' } }, 'timeoutError'] },
      },
    },
    paused: {
      // Running attempts finish and are recorded; nothing new starts until resume.
      on: {
        'task.*': { actions: 'recordReport' },
        'xstate.done.actor.*': { actions: 'recordTaskDone' },
        'task.done': { actions: 'recordTaskDone' },
        'execution.resume': {
          target: 'running',
          actions: [{ type: 'emitFact', params: { event: 'workflow_resumed' } }, { type: 'broadcast', params: { command: 'task.resume' } }],
        },
        'execution.cancel': { target: 'canceled', actions: { type: 'cancelRest', params: { reason: 'execution canceled' } } },
        'execution.timeout': { target: 'failed', actions: [{ type: 'cancelRest', params: { reason: 'execution timed out' } }, 'timeoutError'] },
      },
    },
    completed: {
      type: 'final',
      entry: [{ type: 'settleExecution', params: { outcome: 'completed' } }, emit(({ context }) => fact('workflow_completed', { output: context.output }))],
    },
    failed: {
      type: 'final',
      entry: [{ type: 'settleExecution', params: { outcome: 'failed' } }, emit(({ context }) => fact('workflow_failed', { error: context.error }))],
    },
    canceled: {
      type: 'final',
      entry: [{ type: 'settleExecution', params: { outcome: 'canceled' } }, emit(() => fact('workflow_canceled', { reason: 'execution canceled' }))],
    },
  },
  output: ({ context }): ExecutionOutput => ({ status: context.outcome ?? 'canceled', output: context.output, error: context.error }),
})

export type ExecutionActor = ActorRefFrom<typeof executionMachine>
