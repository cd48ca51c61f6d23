import { createActor, fromPromise, type AnyActorRef, type InspectionEvent, type Observer } from 'xstate'
import { InvalidTransitionError, NotFoundError, TerminalTaskError } from '../errors.js'
import { executionMachine, type CarriedTask, type ExecutionActor, type StartTaskParams } from '../machines/execution.machine.js'
import { taskMachine, type AttemptInput } from '../machines/task.machine.js'
import type { WorkflowDefinition } from '../model/definition.js'
import type { ExecutionEvent } from '../model/events.js'
import type { Execution } from '../model/resources.js'
import { isTerminalExecutionStatus, type ExecutionStatus } from '../model/status.js'
import type { ComponentRegistry, HandlerContext } from '../components/registry.js'
import type { Store } from '../db/store.js'
import { sleepOn, type Clock } from './clock.js'
import type { Journal } from './journal.js'
import type { Logger } from './logger.js'
import type { Semaphore } from './semaphore.js'

export type SupervisorDeps = {
  store: Store
  journal: Journal
  registry: ComponentRegistry
  clock: Clock
  random: () => number
  logger: Logger
  semaphore: Semaphore
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void)
}

/** A hosted task actor; `actor` is null until it is created, just after the transition that started it. */
type TaskSlot = { actor: AnyActorRef | null; signals: Array<'task.pause' | 'task.resume'> }
type Live = { actor: ExecutionActor; done: Promise<void>; timer: unknown; tasks: Map<string, TaskSlot> }

/** Command → the machine state names it may be sent in. */
const ALLOWED: Record<'pause' | 'resume' | 'cancel', readonly string[]> = {
  pause: ['pending', 'running'],
  resume: ['paused'],
  cancel: ['pending', 'running', 'paused'],
}

/** JSON in, JSON out: a handler's result is copied so later mutation cannot reach the engine. */
function toJson(value: unknown): unknown {
  if (value === undefined) return null
  try {
    return JSON.parse(JSON.stringify(value)) as unknown
  } catch (error) {
    throw new TerminalTaskError(`task output is not JSON: ${(error as Error).message}`, { code: 'invalid_output' })
  }
}

/**
 * The execution supervisor of the process: one execution actor per active execution, the component calls behind
 * every task actor, the workflow timeout, and the release of finished executions' actors.
 */
export function createSupervisor(deps: SupervisorDeps) {
  const live = new Map<string, Live>()
  const { registry, clock, semaphore, journal } = deps

  const taskLogic = taskMachine.provide({
    actors: {
      runTask: fromPromise<unknown, AttemptInput>(async ({ input, signal }) => {
        // The process-wide limit: an admitted attempt waits here for a slot, held until the call really ends.
        await semaphore.acquire(signal)
        try {
          const handler = registry.resolve(input.component, input.action)
          const ctx: HandlerContext = {
            executionId: input.executionId,
            taskId: input.taskId,
            attempt: input.attempt,
            idempotencyKey: `${input.executionId}:${input.taskId}`,
            signal,
            logger: deps.logger.child({ execution_id: input.executionId, task_id: input.taskId, attempt: input.attempt }),
            sleep: (ms) => sleepOn(clock, ms, signal),
          }
          // Constant inputs are compiled once and frozen; each call gets its own copy to do with as it likes.
          const own = input.input !== null && typeof input.input === 'object' ? structuredClone(input.input) : input.input
          return toJson(await handler(own, ctx))
        } finally {
          semaphore.release()
        }
      }),
    },
  })

  /**
   * Task actors are hosted here as root actors rather than XState children (see the execution machine's `startTask`):
   * spawning and stopping children copies the parent's children map, which made wide executions slow. Reports and the
   * final output are forwarded to the execution actor as events, which is all the parent/child link did.
   */
  const machine = executionMachine.provide({
    actions: {
      startTask: ({ self }, params: StartTaskParams) => {
        const entry = live.get(self.id)
        if (!entry) return
        const slot: TaskSlot = { actor: null, signals: [] }
        entry.tasks.set(params.taskId, slot)
        // Created and started just after the execution actor's transition, as XState defers a child's start: creating
        // an actor runs its machine's initial transition, which must not happen nested inside another actor's action.
        queueMicrotask(() => {
          if (entry.tasks.get(params.taskId) !== slot) return // stopped before it started
          const task = createActor(taskLogic, {
            id: params.taskId,
            input: params.input,
            clock,
            ...(deps.inspect ? { inspect: deps.inspect } : {}),
          })
          slot.actor = task
          task.on('*', (report) => {
            if (!(report.type === 'task.started' && report.announced)) self.send(report)
          })
          task.subscribe({
            complete: () => {
              if (entry.tasks.get(params.taskId) === slot) self.send({ type: 'task.done', output: task.getSnapshot().output! })
            },
            error: (error) => {
              deps.logger.error('task actor crashed', { execution_id: self.id, task_id: params.taskId, error: String(error) })
              const failure = { message: `task actor crashed: ${String(error)}`, code: 'internal', retryable: false }
              self.send({
                type: 'task.done',
                output: { taskId: params.taskId, status: 'failed', attempt: params.input.attempt ?? 1, output: null, error: failure },
              })
            },
          })
          task.start()
          for (const command of slot.signals) task.send({ type: command })
        })
      },
      stopTask: ({ self }, params: { taskId: string }) => {
        const tasks = live.get(self.id)?.tasks
        const slot = tasks?.get(params.taskId)
        if (!slot) return
        tasks!.delete(params.taskId)
        slot.actor?.stop()
      },
      signalTask: ({ self }, params: { taskId: string; command: 'task.pause' | 'task.resume' }) => {
        const slot = live.get(self.id)?.tasks.get(params.taskId)
        if (!slot) return
        if (slot.actor) slot.actor.send({ type: params.command })
        else slot.signals.push(params.command)
      },
    },
  })

  /** Starts (or restarts) the actor of an execution whose row exists. */
  function run(
    execution: Execution,
    definition: WorkflowDefinition,
    options: { carried?: Record<string, CarriedTask>; state?: Record<string, unknown> } = {},
  ): void {
    const executionId = execution.execution_id
    const actor = createActor(machine, {
      id: executionId,
      input: {
        executionId,
        workflowId: execution.workflow_id,
        workflowVersion: execution.workflow_version,
        definition,
        input: execution.input,
        state: options.state ?? {},
        seed: Math.floor(deps.random() * 4294967296),
        ...(options.carried ? { carried: options.carried } : {}),
      },
      clock,
      ...(deps.inspect ? { inspect: deps.inspect } : {}),
    })
    journal.open(executionId)
    actor.on('*', (fact) => journal.record(executionId, fact))
    let timer: unknown = null
    const entry: Live = { actor, done: Promise.resolve(), timer: null, tasks: new Map() }
    entry.done = new Promise<void>((resolve) => {
      actor.subscribe({
        complete: () => resolve(),
        error: (error) => {
          deps.logger.error('execution actor crashed', { execution_id: executionId, error: String(error) })
          resolve()
        },
      })
    }).then(async () => {
      if (timer !== null) clock.clearTimeout(timer)
      for (const slot of entry.tasks.values()) slot.actor?.stop()
      entry.tasks.clear()
      await journal.flushed()
      // The actor and its children are stopped; drop every reference so a finished execution costs nothing.
      live.delete(executionId)
      journal.close(executionId)
    })
    live.set(executionId, entry)
    actor.start()
    if (definition.timeout !== undefined) {
      timer = clock.setTimeout(() => actor.send({ type: 'execution.timeout' }), definition.timeout * 1000)
      entry.timer = timer
    }
    actor.send({ type: 'execution.start' })
  }

  async function command(executionId: string, name: 'pause' | 'resume' | 'cancel'): Promise<void> {
    const entry = live.get(executionId)
    const snapshot = entry?.actor.getSnapshot()
    if (!entry || !snapshot || snapshot.status !== 'active' || !ALLOWED[name].includes(snapshot.value)) {
      const row = await deps.store.executions.get(executionId)
      if (!row) throw new NotFoundError('execution', executionId)
      const status: ExecutionStatus = snapshot && snapshot.status === 'active' ? snapshot.value : row.status
      throw new InvalidTransitionError('execution', executionId, name, status)
    }
    entry.actor.send({ type: `execution.${name}` })
    await journal.flushed()
  }

  return {
    run,
    pause: (executionId: string) => command(executionId, 'pause'),
    resume: (executionId: string) => command(executionId, 'resume'),
    cancel: (executionId: string) => command(executionId, 'cancel'),
    /** Replaces the state the execution's expressions see as `state`. */
    setState(executionId: string, state: Record<string, unknown>): void {
      live.get(executionId)?.actor.send({ type: 'execution.state', state })
    },
    /** Resolves when the execution's actor is gone and its last event is committed. */
    async settled(executionId: string): Promise<void> {
      await live.get(executionId)?.done
    },
    isLive: (executionId: string) => live.has(executionId),
    get liveCount(): number {
      return live.size
    },
    /** Stops every actor (their handlers' signals fire) without settling the executions: a restart resumes them. */
    async stop(): Promise<void> {
      for (const { actor, timer, tasks } of live.values()) {
        if (timer !== null) clock.clearTimeout(timer)
        for (const slot of tasks.values()) slot.actor?.stop()
        actor.stop()
      }
      live.clear()
      await journal.flushed()
    },
    /** Subscribes to an execution's events: history after `after` first, then live ones, each exactly once. */
    async subscribe(executionId: string, listener: (event: ExecutionEvent) => void, after = 0): Promise<() => void> {
      let last = after
      const buffered: ExecutionEvent[] = []
      let replaying = true
      const deliver = (event: ExecutionEvent) => {
        if (event.seq <= last) return
        last = event.seq
        listener(event)
      }
      const unlisten = journal.listen(executionId, (event) => (replaying ? buffered.push(event) : deliver(event)))
      for (const event of await deps.store.events.list(executionId, after)) deliver(event)
      replaying = false
      for (const event of buffered) deliver(event)
      return unlisten
    },
    terminal: isTerminalExecutionStatus,
  }
}
export type Supervisor = ReturnType<typeof createSupervisor>
