import { performance } from 'node:perf_hooks'
import { createActor, fromPromise, type AnyActorRef, type InspectionEvent, type Observer } from 'xstate'
import { InvalidTransitionError, NotFoundError, TerminalTaskError } from '../errors.js'
import {
  executionMachine,
  ledgerFromRows,
  type ExecutionActor,
  type ExecutionContext,
  type StartTaskParams,
} from '../machines/execution.machine.js'
import { planOf } from '../machines/plan.js'
import { taskMachine, type AttemptInput, type TaskInput } from '../machines/task.machine.js'
import type { WorkflowDefinition } from '../model/definition.js'
import { setOwn, unstorable } from '../json.js'
import type { ExecutionEvent } from '../model/events.js'
import type { CarriedTask, Execution } from '../model/resources.js'
import { isTerminalExecutionStatus, type ExecutionStatus } from '../model/status.js'
import type { ComponentRegistry, HandlerContext } from '../components/registry.js'
import type { RecoveryRecord, Store, TaskRow, TimerRow } from '../db/store.js'
import { after, sleepOn, type Clock } from '../clock.js'
import type { Journal } from './journal.js'
import type { Logger } from '../logger.js'
import type { Semaphore } from './semaphore.js'

export type SupervisorDeps = {
  store: Store
  journal: Journal
  registry: ComponentRegistry
  clock: Clock
  now: () => number
  random: () => number
  logger: Logger
  semaphore: Semaphore
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void)
  /** Called with the committed final state of each execution that ends in this process. */
  onFinished?: (execution: Execution) => void
}

/** The wire form of a finished execution's in-memory rows (which are committed by then). */
function finishedCopy(view: Execution): Execution {
  const task_executions: Execution['task_executions'] = {}
  for (const task of Object.values(view.task_executions) as TaskRow[]) {
    const { snapshot: _s, skip: _k, ...wire } = task
    setOwn(task_executions, wire.task_id, wire)
  }
  return structuredClone({ ...view, task_executions })
}

/** A hosted task actor; `actor` is null until it is created, just after the transition that started it. */
type TaskSlot = { actor: AnyActorRef | null; signals: Array<'task.pause' | 'task.resume'>; wake: unknown }
type Live = {
  actor: ExecutionActor
  done: Promise<void>
  timer: unknown
  tasks: Map<string, TaskSlot>
  /** Durable timers of this execution loaded at recovery (`sleep:<task>:<n>` → due time). */
  timers: Map<string, string>
  /** Per task, how many `ctx.sleep` calls the current attempt made. */
  sleeps: Map<string, number>
}

/** How long the runtime may keep the event loop busy with task starts before it lets I/O through. */
const SLICE_MS = 10

/** Command → the machine state names it may be sent in. */
const ALLOWED: Record<'pause' | 'resume' | 'cancel', readonly string[]> = {
  pause: ['pending', 'running'],
  resume: ['paused'],
  cancel: ['pending', 'running', 'paused'],
}

/** JSON in, JSON out: a handler's result is copied so later mutation cannot reach the engine. */
function toJson(value: unknown): unknown {
  if (value === undefined) return null
  let text: string
  try {
    text = JSON.stringify(value)
  } catch (error) {
    throw new TerminalTaskError(`task output is not JSON: ${(error as Error).message}`, { code: 'invalid_output' })
  }
  const why = unstorable(text)
  if (why !== null) throw new TerminalTaskError(`task output contains ${why}, which cannot be stored`, { code: 'invalid_output' })
  return JSON.parse(text) as unknown
}

/**
 * The execution supervisor of the process: one execution actor per active execution, the task actors it starts,
 * the component calls behind them, durable timers (retry backoff, sleep, workflow timeout), recovery after a restart,
 * and the release of finished executions' actors.
 */
export function createSupervisor(deps: SupervisorDeps) {
  const live = new Map<string, Live>()
  const { registry, clock, semaphore, journal } = deps
  const inspect = deps.inspect ? { inspect: deps.inspect } : {}

  /**
   * Runs `fn` after the current transition: as a microtask while the process has been busy for less than a slice,
   * otherwise after pending I/O (setImmediate). Fast in-memory handlers could otherwise chain microtasks for seconds,
   * starving commits, timers and HTTP; a slice of a few milliseconds keeps short executions in one tick.
   */
  let sliceStart = performance.now()
  let sliceScheduled = false
  function later(fn: () => void): void {
    if (performance.now() - sliceStart < SLICE_MS) {
      queueMicrotask(fn)
      return
    }
    if (!sliceScheduled) {
      sliceScheduled = true
      setImmediate(() => {
        sliceScheduled = false
        sliceStart = performance.now()
      })
    }
    setImmediate(fn)
  }

  /** `ctx.sleep`: a durable timer row, so that a restart resumes the sleep with the time that remains. */
  async function durableSleep(input: AttemptInput, ms: number, signal: AbortSignal): Promise<void> {
    const entry = live.get(input.executionId)
    if (!entry) return sleepOn(clock, ms, signal)
    const n = entry.sleeps.get(input.taskId) ?? 0
    entry.sleeps.set(input.taskId, n + 1)
    const key = `sleep:${input.taskId}:${n}`
    let due = entry.timers.get(key)
    if (due === undefined) {
      due = new Date(deps.now() + ms).toISOString()
      entry.timers.set(key, due)
      journal.setTaskTimer(input.executionId, input.taskId, key, due)
      await journal.flushed()
    }
    await sleepOn(clock, Math.max(0, Date.parse(due) - deps.now()), signal)
  }

  const taskLogic = taskMachine.provide({
    actors: {
      runTask: fromPromise<unknown, AttemptInput>(async ({ input, signal }) => {
        // The process-wide limit: an admitted attempt waits here for a slot, held until the call really ends.
        await semaphore.acquire(signal)
        try {
          live.get(input.executionId)?.sleeps.delete(input.taskId)
          const handler = registry.resolve(input.component, input.action)
          const ctx: HandlerContext = {
            executionId: input.executionId,
            taskId: input.taskId,
            attempt: input.attempt,
            idempotencyKey: `${input.executionId}:${input.taskId}`,
            signal,
            logger: deps.logger.child({ execution_id: input.executionId, task_id: input.taskId, attempt: input.attempt }),
            sleep: (ms) => durableSleep(input, ms, signal),
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
   * Creates and starts a task actor for `executionId`, fresh (`input`) or restored (`snapshot`).
   * Task actors are hosted here as root actors rather than XState children (see the execution machine's `startTask`):
   * spawning and stopping children copies the parent's children map, which made wide executions slow. Reports and the
   * final output are forwarded to the execution actor as events, which is all the parent/child link did.
   */
  function hostTask(
    entry: Live,
    taskId: string,
    slot: TaskSlot,
    from: { input: TaskInput } | { snapshot: unknown; input: TaskInput },
  ): void {
    const execution = entry.actor
    const executionId = execution.id
    const task = createActor(taskLogic, {
      id: taskId,
      input: from.input,
      clock,
      ...('snapshot' in from ? { snapshot: from.snapshot as never } : {}),
      ...inspect,
    })
    slot.actor = task
    task.on('*', (report) => {
      if (!(report.type === 'task.started' && report.announced)) execution.send(report)
    })
    let last: unknown
    task.subscribe({
      next: (snapshot) => {
        // A waiting task's snapshot goes to its row: after a restart it is restored from there.
        if (snapshot.value !== last && (snapshot.value === 'retrying' || snapshot.value === 'paused')) {
          journal.recordSnapshot(executionId, taskId, task.getPersistedSnapshot())
        }
        last = snapshot.value
      },
      complete: () => {
        // `complete` also follows a stop; only a task that reached a final state has an outcome to report.
        const snapshot = task.getSnapshot()
        if (snapshot.status === 'done' && entry.tasks.get(taskId) === slot) execution.send({ type: 'task.done', output: snapshot.output })
      },
      error: (error) => {
        deps.logger.error('task actor crashed', { execution_id: executionId, task_id: taskId, error: String(error) })
        const failure = { message: `task actor crashed: ${String(error)}`, code: 'internal', retryable: false }
        execution.send({
          type: 'task.done',
          output: { taskId, status: 'failed', attempt: from.input.attempt ?? 1, output: null, error: failure },
        })
      },
    })
    task.start()
    for (const command of slot.signals) task.send({ type: command })
  }

  const machine = executionMachine.provide({
    actions: {
      startTask: ({ self }, params: StartTaskParams) => {
        const entry = live.get(self.id)
        if (!entry) return
        const slot: TaskSlot = { actor: null, signals: [], wake: null }
        entry.tasks.set(params.taskId, slot)
        // Created and started just after the execution actor's transition, as XState defers a child's start: creating
        // an actor runs its machine's initial transition, which must not happen nested inside another actor's action.
        later(() => {
          if (entry.tasks.get(params.taskId) === slot) hostTask(entry, params.taskId, slot, { input: params.input })
        })
      },
      stopTask: ({ self }, params: { taskId: string }) => {
        const tasks = live.get(self.id)?.tasks
        const slot = tasks?.get(params.taskId)
        if (!slot) return
        tasks!.delete(params.taskId)
        if (slot.wake !== null) clock.clearTimeout(slot.wake)
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

  function register(execution: Execution, actor: ExecutionActor, timers: TimerRow[]): Live {
    const executionId = execution.execution_id
    const entry: Live = {
      actor,
      done: Promise.resolve(),
      timer: null,
      tasks: new Map(),
      timers: new Map(timers.map((t) => [t.key, t.due_at])),
      sleeps: new Map(),
    }
    actor.on('*', (fact) => journal.record(executionId, fact))
    entry.done = new Promise<void>((resolve) => {
      actor.subscribe({
        complete: () => resolve(),
        error: (error) => {
          deps.logger.error('execution actor crashed', { execution_id: executionId, error: String(error) })
          resolve()
        },
      })
    }).then(async () => {
      release(entry)
      const committed = await journal.flushed().then(
        () => true,
        () => false,
      )
      const view = journal.view(executionId)
      if (committed && view && isTerminalExecutionStatus(view.status)) deps.onFinished?.(finishedCopy(view))
      // Drop every reference so that a finished execution costs nothing in memory.
      live.delete(executionId)
      journal.close(executionId)
    })
    live.set(executionId, entry)
    return entry
  }

  function release(entry: Live): void {
    if (entry.timer !== null) clock.clearTimeout(entry.timer)
    const slots = [...entry.tasks.values()]
    entry.tasks.clear()
    for (const slot of slots) {
      if (slot.wake !== null) clock.clearTimeout(slot.wake)
      slot.actor?.stop()
    }
  }

  function armTimeout(entry: Live, dueAt: string | undefined): void {
    if (dueAt === undefined) return
    entry.timer = after(clock, Date.parse(dueAt) - deps.now(), () => entry.actor.send({ type: 'execution.timeout' }))
  }

  /** Starts the actor of a new execution whose rows exist (status pending). */
  function start(
    execution: Execution,
    definition: WorkflowDefinition,
    options: { owner: string; epoch: number; carried?: Record<string, CarriedTask>; state?: Record<string, unknown>; timers: TimerRow[] },
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
      ...inspect,
    })
    // The rows are written by the commit that carries the first transitions (one transaction for a short execution).
    journal.create(
      {
        execution,
        owner: options.owner,
        epoch: options.epoch,
        timers: options.timers,
        state: options.state ?? {},
        created_at: new Date(deps.now()).toISOString(),
      },
      () => stopLocally(executionId),
    )
    const entry = register(execution, actor, options.timers)
    actor.start()
    armTimeout(entry, entry.timers.get('timeout'))
    actor.send({ type: 'execution.start' })
  }

  /** Brings back a non-terminal execution from its stored rows after a restart (DESIGN.md "Recovery"). */
  function recover(record: RecoveryRecord): void {
    const { execution, definition } = record
    const executionId = execution.execution_id
    const plan = planOf(definition)
    const seed = Math.floor(deps.random() * 4294967296)
    const ledger = ledgerFromRows(definition, record.tasks, seed)
    const context: ExecutionContext = {
      executionId,
      workflowId: execution.workflow_id,
      workflowVersion: execution.workflow_version,
      definition,
      input: execution.input,
      state: record.state,
      ledger,
      output: null,
      error: null,
      outcome: null,
    }
    const value: ExecutionStatus = execution.status
    // A persisted supervisor snapshot, rebuilt from the rows: the ledger lives in the task rows, not in one blob that
    // would grow with the DAG on every write.
    const snapshot = { status: 'active', value, context, children: {}, historyValue: {} }
    const actor = createActor(machine, { id: executionId, snapshot: snapshot as never, input: undefined, clock, ...inspect })
    journal.open(execution, {
      epoch: record.epoch,
      lastSeq: record.last_seq,
      tasks: record.tasks,
      timers: record.timers,
      onStale: () => stopLocally(executionId),
    })
    const entry = register(execution, actor, record.timers)
    actor.start()
    // Re-host the tasks that were active: running ones are attempted again (same attempt number and idempotency key),
    // waiting ones are restored from their snapshots and woken by their durable timers.
    for (const row of record.tasks) {
      if (row.status !== 'running' && row.status !== 'retrying' && row.status !== 'paused') continue
      const i = plan.index.get(row.task_id)
      if (i === undefined) continue
      const task = definition.tasks[i]!
      const input: TaskInput = {
        executionId,
        taskId: row.task_id,
        component: task.component,
        action: task.action,
        input: row.input,
        policy: plan.policies[i]!,
        timeoutMs: plan.timeoutsMs[i],
        seed: Math.floor(deps.random() * 4294967296),
        attempt: Math.max(0, row.attempts - 1),
      }
      // A paused execution's running attempts hold whatever follows them, as they did before the restart.
      const slot: TaskSlot = { actor: null, signals: value === 'paused' && row.status === 'running' ? ['task.pause'] : [], wake: null }
      entry.tasks.set(row.task_id, slot)
      if (row.status === 'running' || row.snapshot === null) {
        hostTask(entry, row.task_id, slot, { input })
      } else {
        hostTask(entry, row.task_id, slot, { input, snapshot: row.snapshot })
        const due = entry.timers.get(`retry:${row.task_id}`)
        if (row.status === 'retrying') {
          const wait = due === undefined ? 0 : Math.max(0, Date.parse(due) - deps.now())
          slot.wake = after(clock, wait, () => {
            slot.wake = null
            slot.actor?.send({ type: 'task.retry' })
          })
        }
      }
    }
    armTimeout(entry, entry.timers.get('timeout'))
    actor.send({ type: value === 'pending' ? 'execution.start' : 'execution.recover' })
  }

  /** Stops an execution's actors here without settling it: its rows stay as the store has them. */
  function stopLocally(executionId: string): void {
    const entry = live.get(executionId)
    if (!entry) return
    release(entry)
    entry.actor.stop()
    live.delete(executionId)
    journal.close(executionId)
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
    start,
    recover,
    pause: (executionId: string) => command(executionId, 'pause'),
    resume: (executionId: string) => command(executionId, 'resume'),
    cancel: (executionId: string) => command(executionId, 'cancel'),
    /** Replaces the state the execution's expressions see as `state` (live executions only). */
    setState(executionId: string, state: Record<string, unknown>): boolean {
      const entry = live.get(executionId)
      if (!entry) return false
      entry.actor.send({ type: 'execution.state', state })
      return true
    },
    /** Resolves when the execution's actor is gone and its last event is committed. */
    async settled(executionId: string): Promise<void> {
      await live.get(executionId)?.done
    },
    isLive: (executionId: string) => live.has(executionId),
    get liveCount(): number {
      return live.size
    },
    /** The in-memory task rows of a live execution, for a consistent checkpoint of a running execution. */
    liveTasks(executionId: string): TaskRow[] | undefined {
      const view = journal.view(executionId)
      return view && (Object.values(view.task_executions) as TaskRow[])
    },
    /** Stops every actor (their handlers' signals fire) without settling the executions: a restart resumes them. */
    async stop(): Promise<void> {
      for (const executionId of [...live.keys()]) stopLocally(executionId)
      await journal.flushed().catch(() => {})
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
