import { and, assign, emit, enqueueActions, setup, type ActorRefFrom, type DoneActorEvent } from 'xstate'
import { ConditionNotBooleanError, evaluateCondition, evaluateValue, ExpressionEvaluationError, type Scope } from '../expressions/index.js'
import type { ErrorInfo, EventType } from '../model/events.js'
import { nextRandom } from './backoff.js'
import { scopeOf, taskInputOf, type ExecutionContext, type ExecutionInput } from './execution.context.js'
import { fact, type Emitted, type ExecutionCommand, type ExecutionOutput, type TaskDone } from './events.js'
import { elementInputs } from './fan-out.js'
import { createLedger, isSettled, settle } from './ledger.js'
import { planOf } from './plan.js'
import { taskMachine, type TaskInput, type TaskOutput, type TaskReport } from './task.machine.js'

/**
 * The execution supervisor: holds the DAG, spawns a task actor when a task's dependencies are settled, enforces
 * `max_concurrency`, resolves each task's input at spawn time, and decides the final status and output.
 *
 * Only active tasks have a live child actor (STACK.md §2(e): a parent holding thousands of children is quadratic);
 * pending and finished tasks are entries of the ledger (ledger.ts).
 *
 * The machine decides facts and emits them (`actor.on('*')`); the runtime stamps, persists and publishes them.
 * Commands are checked against the machine itself (`snapshot.can(command)`): no second table of what is allowed.
 */

export type ExecutionMachineEvent = ExecutionCommand | TaskReport | TaskDone | DoneActorEvent<TaskOutput, string>

/** What `startTask` receives: the task actor's id (the task id) and its input. */
export type StartTaskParams = { taskId: string; input: TaskInput }

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

/**
 * Why a ready task fails before it starts: its condition or its input could not be evaluated. The expression error's
 * own code is kept when it has one (`when_not_boolean`, `expression_budget_exceeded`), else `expression`.
 */
function startFailure(error: unknown): ErrorInfo {
  if (error instanceof ConditionNotBooleanError) return { ...asErrorInfo(error, 'when_not_boolean'), message: `when: ${error.message}` }
  return asErrorInfo(error, expressionCode(error))
}

const expressionCode = (error: unknown): string =>
  error instanceof ExpressionEvaluationError && error.code !== 'expression_error' ? error.code : 'expression'

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
        const entry = ledger.tasks[i]!
        if (entry.status !== 'pending' || entry.live) continue
        const id = plan.ids[i]!
        const compiled = plan.compiled.tasks[i]!
        let input: unknown
        try {
          scope ??= scopeOf(context, plan)
          if (compiled.when !== undefined && !evaluateCondition(compiled.when, scope)) {
            out.push(fact('task_skipped', { reason: 'condition is false', cause: 'condition' }, id))
            entry.output = null
            settle(plan, ledger, i, 'skipped', out, 'condition')
            continue
          }
          input = compiled.forEach ? elementInputs(compiled, scope) : evaluateValue(compiled.input, scope)
        } catch (error) {
          entry.error = startFailure(error)
          out.push(fact('task_failed', { attempt: 0, error: entry.error }, id))
          settle(plan, ledger, i, 'failed', out)
          continue
        }
        const draw = nextRandom(ledger.rng)
        ledger.rng = draw.state
        entry.live = true
        entry.input = input
        entry.status = 'running'
        entry.attempts++
        ledger.live++
        // The child enters `running` as it starts: its first attempt is announced here, which saves an event per task.
        out.push(fact('task_started', { attempt: entry.attempts, input }, id))
        const seed = Math.floor(draw.value * 4294967296)
        enqueue(named<StartTaskParams>('startTask', { taskId: id, input: taskInputOf(context, i, input, entry.attempts - 1, seed) }))
      }
      flush((e) => enqueue.emit(e), out)
    }),
    /** Records a report from a task actor and turns it into a fact. */
    recordReport: enqueueActions(({ context, event, enqueue }) => {
      const report = event as TaskReport
      const plan = planOf(context.definition)
      const i = plan.index.get(report.taskId)
      if (i === undefined) return
      const entry = context.ledger.tasks[i]!
      switch (report.type) {
        case 'task.started':
          entry.status = 'running'
          entry.attempts = report.attempt
          enqueue.emit(fact('task_started', { attempt: report.attempt }, report.taskId))
          return
        case 'task.retrying':
          entry.status = 'retrying'
          entry.error = report.error
          enqueue.emit(fact('task_retrying', { attempt: report.attempt, error: report.error, delay_ms: report.delayMs }, report.taskId))
          return
        case 'task.paused':
          entry.status = 'paused'
          if (report.error) entry.error = report.error
          enqueue.emit({ type: 'task.status', taskId: report.taskId, status: 'paused' })
          return
        case 'task.resumed':
          entry.status = entry.error ? 'retrying' : 'pending'
          enqueue.emit({ type: 'task.status', taskId: report.taskId, status: entry.status, delayMs: report.delayMs })
          return
      }
    }),
    /** A task actor finished: stop it, settle the task, release or skip its dependents. */
    recordTaskDone: enqueueActions(({ context, event, enqueue }) => {
      const result = (event as TaskDone).output
      const plan = planOf(context.definition)
      const i = plan.index.get(result.taskId)
      if (i === undefined) return
      const entry = context.ledger.tasks[i]!
      enqueue(named('stopTask', { taskId: result.taskId }))
      if (!entry.live) return
      entry.live = false
      context.ledger.live--
      entry.attempts = result.attempt
      const out: Emitted[] = []
      if (result.status === 'completed') {
        entry.output = result.output
        entry.error = null
        out.push(fact('task_completed', { attempt: result.attempt, output: result.output }, result.taskId))
      } else if (result.status === 'failed') {
        entry.error = result.error
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
      ledger.tasks.forEach((entry, i) => {
        if (isSettled(entry)) return
        const id = plan.ids[i]!
        if (entry.live) {
          enqueue(named('stopTask', { taskId: id }))
          entry.live = false
          ledger.live--
        }
        entry.status = 'canceled'
        ledger.settled++
        enqueue.emit(fact('task_canceled', { reason: params.reason }, id))
      })
    }),
    broadcast: enqueueActions(({ context, enqueue }, params: { command: 'task.pause' | 'task.resume' }) => {
      const plan = planOf(context.definition)
      context.ledger.tasks.forEach((entry, i) => {
        if (entry.live) enqueue(named('signalTask', { taskId: plan.ids[i]!, command: params.command }))
      })
    }),
    emitFact: emit((_, params: { event: EventType }) => fact(params.event)),
    emitStarted: emit(({ context }) => fact('workflow_started', { input: context.input })),
    computeOutput: assign(({ context }) => {
      const plan = planOf(context.definition)
      try {
        return { output: evaluateValue(plan.compiled.output, scopeOf(context, plan)) }
      } catch (error) {
        const info = asErrorInfo(error, expressionCode(error))
        return { error: { ...info, message: `output: ${info.message}` } }
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
      error: ({ context }) => ({
        message: `execution timed out after ${context.definition.timeout ?? 0}s`,
        code: 'timeout',
        retryable: false,
      }),
    }),
    setState: assign({ state: ({ event }) => (event as { state: Record<string, unknown> }).state }),
    /** The new state goes to the store with the next commit, announced by `state_saved`. */
    emitState: enqueueActions(({ event, enqueue }) => {
      const { state } = event as { state: Record<string, unknown> }
      enqueue.emit({ type: 'execution.state', state })
      enqueue.emit(fact('state_saved', { keys: Object.keys(state) }))
    }),
    /** A signal is kept with the execution (a waiting task may take it at once), announced by `signal_received`. */
    emitSignal: enqueueActions(({ event, enqueue }) => {
      const { name, payload } = event as { name: string; payload: unknown }
      enqueue.emit({ type: 'execution.signal', name, payload })
      enqueue.emit(fact('signal_received', { name }))
    }),
    emitCheckpoint: emit(({ event }) => fact('checkpoint_created', { checkpoint_id: (event as { checkpointId: string }).checkpointId })),
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
    'execution.state': { actions: ['setState', 'emitState'] },
    'execution.checkpoint': { actions: 'emitCheckpoint' },
    'execution.signal': { actions: 'emitSignal' },
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
        {
          guard: 'failFastTriggered',
          target: 'failed',
          actions: [{ type: 'cancelRest', params: { reason: 'fail_fast: another task failed' } }, 'failedTasksError'],
        },
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
          actions: [
            { type: 'emitFact', params: { event: 'workflow_paused' } },
            { type: 'broadcast', params: { command: 'task.pause' } },
          ],
        },
        'execution.cancel': { target: 'canceled', actions: { type: 'cancelRest', params: { reason: 'execution canceled' } } },
        'execution.timeout': {
          target: 'failed',
          actions: [{ type: 'cancelRest', params: { reason: 'execution timed out' } }, 'timeoutError'],
        },
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
          actions: [
            { type: 'emitFact', params: { event: 'workflow_resumed' } },
            { type: 'broadcast', params: { command: 'task.resume' } },
          ],
        },
        'execution.cancel': { target: 'canceled', actions: { type: 'cancelRest', params: { reason: 'execution canceled' } } },
        'execution.timeout': {
          target: 'failed',
          actions: [{ type: 'cancelRest', params: { reason: 'execution timed out' } }, 'timeoutError'],
        },
      },
    },
    completed: {
      type: 'final',
      entry: [
        { type: 'settleExecution', params: { outcome: 'completed' } },
        emit(({ context }) => fact('workflow_completed', { output: context.output })),
      ],
    },
    failed: {
      type: 'final',
      entry: [
        { type: 'settleExecution', params: { outcome: 'failed' } },
        emit(({ context }) => fact('workflow_failed', { error: context.error })),
      ],
    },
    canceled: {
      type: 'final',
      entry: [
        { type: 'settleExecution', params: { outcome: 'canceled' } },
        emit(() => fact('workflow_canceled', { reason: 'execution canceled' })),
      ],
    },
  },
  output: ({ context }): ExecutionOutput => ({ status: context.outcome ?? 'canceled', output: context.output, error: context.error }),
})

export type ExecutionActor = ActorRefFrom<typeof executionMachine>
