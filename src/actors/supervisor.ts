import { createActor, type InspectionEvent, type Observer } from 'xstate'
import { after, type Clock } from '../clock.js'
import type { ComponentRegistry } from '../components/registry.js'
import type { HeldLease, RecoveryRecord, Store, TaskRow, TimerRow } from '../db/store.js'
import { InvalidTransitionError, NotFoundError } from '../errors.js'
import { setOwn } from '../json.js'
import type { Logger } from '../logger.js'
import type { ExecutionCommand } from '../machines/events.js'
import { executionMachine, type ExecutionActor, type StartTaskParams } from '../machines/execution.machine.js'
import type { WorkflowDefinition } from '../model/definition.js'
import type { ExecutionEvent } from '../model/events.js'
import type { CarriedTask, Execution, StateRecord, TaskExecution } from '../model/resources.js'
import type { SignalDoc } from '../model/signals.js'
import { isTerminalExecutionStatus } from '../model/status.js'
import type { Journal } from './journal.js'
import { newSlot, type Live } from './live.js'
import { reportFinished } from './finished.js'
import { restoreExecution } from './recovery.js'
import type { Semaphore } from './semaphore.js'
import { createSlicer } from './slices.js'
import { createCallbacks, type CallbackOutcome } from './callbacks.js'
import { createSignalWaiters } from './signal-waiters.js'
import { wireTaskLogic } from './task-wiring.js'
import { createTaskHost } from './task-host.js'
import { createGates } from './gates.js'
import { TIMEOUT_KEY } from './timer-keys.js'
import { countRunningTasks, observeLocal, type ObservedEvent } from './observed.js'

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

/** What the lease keeper hears from the supervisor; set once it exists. */
export type OwnershipHooks = {
  started?: (executionId: string) => void
  dropped?: (lease: HeldLease) => void
  /** Whether this node's lease on the execution is still fresh enough to start a handler (false: it drops it). */
  mayRun?: (executionId: string) => boolean
}

/** A copy of a live execution's task results at one instant, for a checkpoint. */
export type LiveCopy = { status: Execution['status']; tasks: TaskExecution[]; state: Record<string, unknown> }

/** The commands a user may send; whether one is allowed now is the machine's answer (`snapshot.can`). */
export type UserCommand = 'pause' | 'resume' | 'cancel'

/**
 * The execution supervisor of the process: hosts one execution actor per active execution and the task actors it
 * starts, routes commands to them, arms the workflow timeout, and releases a finished execution's actors. The
 * component call is the task runner's (task-runner.ts); rebuilding actors after a restart is recovery's (recovery.ts);
 * every fact goes through the journal (persist, then publish).
 */
export function createSupervisor(deps: SupervisorDeps) {
  const live = new Map<string, Live>()
  const { clock, journal } = deps
  const inspect = deps.inspect ? { inspect: deps.inspect } : {}
  const later = createSlicer()
  const seed = () => Math.floor(deps.random() * 4294967296)
  const hooks: OwnershipHooks = {}

  const callbacks = createCallbacks()
  const signals = createSignalWaiters(journal)
  const gates = createGates()
  const taskLogic = wireTaskLogic({ ...deps, live, callbacks, signals, gates, mayRun: (id) => hooks.mayRun?.(id) ?? true })

  const { hostTask, command: commandTask } = createTaskHost({
    taskLogic,
    journal,
    clock,
    logger: deps.logger,
    gates,
    inspect,
  })

  const machine = executionMachine.provide({
    actions: {
      startTask: ({ self }, params: StartTaskParams) => {
        const entry = live.get(self.id)
        if (!entry) return
        const slot = newSlot()
        entry.tasks.set(params.taskId, slot)
        // Created and started just after the execution actor's transition, as XState defers a child's start: creating
        // an actor runs its machine's initial transition, which must not happen nested inside another actor's action.
        later(() => {
          if (entry.tasks.get(params.taskId) === slot) hostTask(entry, params.taskId, slot, params.input)
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
        if (slot) commandTask(self.id, params.taskId, slot, params.command)
      },
    },
  })

  function register(executionId: string, actor: ExecutionActor, timers: readonly TimerRow[]): Live {
    const entry: Live = {
      actor,
      done: Promise.resolve(),
      timer: null,
      tasks: new Map(),
      timers: new Map(timers.map((t) => [t.key, t.due_at])),
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
      if (committed && view && isTerminalExecutionStatus(view.status)) {
        const copy = finishedCopy(view)
        reportFinished(deps.logger, copy)
        deps.onFinished?.(copy)
      }
      // Drop every reference so that a finished execution costs nothing in memory.
      signals.forget(executionId)
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

  function armTimeout(entry: Live): void {
    const dueAt = entry.timers.get(TIMEOUT_KEY)
    if (dueAt === undefined) return
    entry.timer = after(clock, Date.parse(dueAt) - deps.now(), () => entry.actor.send({ type: 'execution.timeout' }))
  }

  /** Stops an execution's actors here without settling it: its rows stay as the store has them. */
  function stopLocally(executionId: string): void {
    const entry = live.get(executionId)
    if (!entry) return
    const epoch = journal.epoch(executionId)
    if (epoch !== undefined) hooks.dropped?.({ execution_id: executionId, epoch })
    release(entry)
    entry.actor.stop()
    live.delete(executionId)
    journal.close(executionId)
  }

  /** Sends a command the machine accepts in its current state; 404/409 otherwise. */
  async function command(executionId: string, name: UserCommand): Promise<void> {
    const event: ExecutionCommand = { type: `execution.${name}` }
    const entry = live.get(executionId)
    const state = entry?.actor.getSnapshot()
    if (!entry || !state || !state.can(event)) {
      const row = await deps.store.executions.get(executionId)
      if (!row) throw new NotFoundError('execution', executionId)
      throw new InvalidTransitionError('execution', executionId, name, state?.status === 'active' ? state.value : row.status)
    }
    entry.actor.send(event)
    await journal.flushed()
  }

  return {
    /** Starts the actor of a new execution; its rows are written by the commit that carries its first transitions. */
    start(
      execution: Execution,
      definition: WorkflowDefinition,
      options: {
        owner: string
        epoch: number
        leaseSeconds?: number
        carried?: Record<string, CarriedTask>
        state?: Record<string, unknown>
        timers: TimerRow[]
      },
    ): void {
      const executionId = execution.execution_id
      const input = {
        executionId,
        workflowId: execution.workflow_id,
        workflowVersion: execution.workflow_version,
        definition,
        input: execution.input,
        state: options.state ?? {},
        seed: seed(),
        ...(options.carried ? { carried: options.carried } : {}),
      }
      const actor = createActor(machine, { id: executionId, input, clock, ...inspect })
      const created = {
        execution,
        owner: options.owner,
        epoch: options.epoch,
        timers: options.timers,
        state: options.state ?? {},
        created_at: new Date(deps.now()).toISOString(),
        ...(options.leaseSeconds === undefined ? {} : { lease_seconds: options.leaseSeconds }),
      }
      hooks.started?.(executionId)
      journal.create(created, () => stopLocally(executionId))
      const entry = register(executionId, actor, options.timers)
      actor.start()
      armTimeout(entry)
      actor.send({ type: 'execution.start' })
    },
    /** Brings back a non-terminal execution from its stored rows after a restart (DESIGN.md "Recovery"). */
    recover(record: RecoveryRecord): void {
      if (live.has(record.execution.execution_id)) return
      restoreExecution(record, {
        machine,
        taskLogic,
        journal,
        clock,
        now: deps.now,
        seed,
        inspect,
        register,
        hostTask,
        armTimeout,
        stopLocally,
      })
    },
    pause: (executionId: string) => command(executionId, 'pause'),
    resume: (executionId: string) => command(executionId, 'resume'),
    cancel: (executionId: string) => command(executionId, 'cancel'),
    /** Replaces a live execution's state (what its expressions see as `state`); undefined when it is not live here. */
    async saveState(executionId: string, state: Record<string, unknown>): Promise<StateRecord | undefined> {
      const entry = live.get(executionId)
      if (!entry || entry.actor.getSnapshot().status !== 'active') return undefined
      entry.actor.send({ type: 'execution.state', state })
      await journal.flushed()
      return journal.savedState(executionId) ?? { execution_id: executionId, state, updated_at: new Date(deps.now()).toISOString() }
    },
    /**
     * A consistent copy of a live execution's task results and state at this instant, announced by a
     * `checkpoint_created` fact; resolves once the copy is no further ahead than the store. Undefined when not live.
     */
    async checkpoint(executionId: string, checkpointId: string): Promise<LiveCopy | undefined> {
      const entry = live.get(executionId)
      const view = journal.view(executionId)
      const state = entry?.actor.getSnapshot()
      if (!entry || !view || state?.status !== 'active') return undefined
      const copy: LiveCopy = {
        status: view.status,
        tasks: Object.values(view.task_executions).map((t) => structuredClone(wireTask(t as TaskRow))),
        state: structuredClone(state.context.state),
      }
      entry.actor.send({ type: 'execution.checkpoint', checkpointId })
      await journal.flushed()
      return copy
    },
    /**
     * Records a signal for a live execution (`signal_received`) and hands it to the first task waiting for that name.
     * Resolves once committed: true when a waiting task took it, false when it is kept for a later wait; undefined when
     * the execution is not live here (the caller decides: unknown, finished).
     */
    async signal(executionId: string, name: string, payload: unknown): Promise<boolean | undefined> {
      const entry = live.get(executionId)
      if (!entry || entry.actor.getSnapshot().status !== 'active') return undefined
      entry.actor.send({ type: 'execution.signal', name, payload })
      return signals.deliver(executionId, name)
    },
    /** A live execution's signals and the names its tasks wait for now; undefined when not live here. */
    signals(executionId: string): { doc: SignalDoc; waiting: Set<string> } | undefined {
      const doc = journal.signals.doc(executionId)
      return doc && { doc, waiting: signals.names(executionId) }
    },
    /** A live execution's parent link (null: a top-level one); undefined when it is not live here. */
    parentOf: (executionId: string) => journal.view(executionId)?.parent,
    /** A live execution's workflow id; undefined when it is not live here. */
    workflowOf: (executionId: string): string | undefined => journal.view(executionId)?.workflow_id,
    /** The sub-workflows a live execution's unfinished tasks started (commands carry over to them). */
    children(executionId: string): string[] {
      const view = journal.view(executionId)
      if (!view) return []
      const out: string[] = []
      for (const t of Object.values(view.task_executions)) {
        if (t.child_execution_id && (t.status === 'running' || t.status === 'paused' || t.status === 'retrying'))
          out.push(t.child_execution_id)
      }
      return out
    },
    /** Records on the task's row the child execution it starts (committed before the child is). */
    async linkChild(executionId: string, taskId: string, childId: string): Promise<void> {
      journal.recordChild(executionId, taskId, childId)
      await journal.flushed()
    },
    /** A live execution's task as its row stands now (uncommitted changes included); undefined when not live here. */
    task(executionId: string, taskId: string): TaskRow | undefined {
      const row = journal.task(executionId, taskId)
      return row && structuredClone(row)
    },
    /**
     * Hands a component's callback to the task's current attempt (checked by the caller), then lets the attempt
     * settle and its facts reach the store.
     */
    async deliverCallback(executionId: string, taskId: string, attempt: number, outcome: CallbackOutcome): Promise<'delivered' | 'held'> {
      const delivered = callbacks.deliver(executionId, taskId, attempt, outcome)
      // The attempt settles a few microtasks later (promise → actor → execution actor → journal): one turn, then a flush.
      await new Promise((resolve) => setImmediate(resolve))
      await journal.flushed()
      return delivered
    },
    /** Resolves when the execution's actor is gone and its last event is committed. */
    async settled(executionId: string): Promise<void> {
      await live.get(executionId)?.done
    },
    isLive: (executionId: string) => live.has(executionId),
    /** Told when an execution starts being held here, and when one stops here unfinished (services/ownership.ts). */
    ownershipHooks: hooks,
    /** The executions held here with their epochs (what the lease keeper renews). */
    held(): HeldLease[] {
      const out: HeldLease[] = []
      for (const executionId of live.keys()) {
        const epoch = journal.epoch(executionId)
        if (epoch !== undefined) out.push({ execution_id: executionId, epoch })
      }
      return out
    },
    /** Stops an execution here without settling it (its lease was lost): its handlers are aborted, its rows stay. */
    drop: (executionId: string) => stopLocally(executionId),
    /** A draining node: no attempt starts from now on; resolves once the attempts in flight have finished. */
    drain(): Promise<void> {
      deps.semaphore.hold()
      return deps.semaphore.idle()
    },
    /** Whether every attempt slot is taken (a node that busy claims no more work). */
    get saturated(): boolean {
      return deps.semaphore.waiting > 0
    },
    get liveCount(): number {
      return live.size
    },
    /** Stops every actor (their handlers' signals fire) without settling the executions: a restart resumes them. */
    async stop(): Promise<void> {
      for (const executionId of [...live.keys()]) stopLocally(executionId)
      await journal.flushed().catch(() => {})
    },
    /** Subscribes to an execution's events: history after `after` first, then live ones, each exactly once. */
    subscribe: (executionId: string, listener: (event: ExecutionEvent) => void, after = 0) =>
      journal.subscribe(executionId, listener, after),
    /** Every execution's events as they are committed (live only). */
    subscribeAll: (listener: (event: ExecutionEvent) => void) => journal.listenAll(listener),
    /** The events this node commits (its own executions), as committed. */
    subscribeLocal: (listener: (event: ExecutionEvent) => void) => journal.listenLocal(listener),
    /** The events this node commits with their execution's rows and definition (metrics, traces). */
    observe: (listener: (observed: ObservedEvent) => void) => observeLocal(journal, live, listener),
    /** Task actors running now. */
    runningTasks: () => countRunningTasks(live),
    /** Resolves once every transition recorded so far is committed. */
    flushed: () => journal.flushed(),
  }
}
export type Supervisor = ReturnType<typeof createSupervisor>

const wireTask = ({ snapshot: _s, skip: _k, awaiting: _a, ...wire }: TaskRow): TaskExecution => wire

/** The wire form of a finished execution's in-memory rows (which are committed by then). */
function finishedCopy(view: Execution): Execution {
  const task_executions: Execution['task_executions'] = {}
  for (const task of Object.values(view.task_executions) as TaskRow[]) setOwn(task_executions, task.task_id, wireTask(task))
  // Not deep-copied: the journal forgets the view right after (nothing changes it again), and the finished cache
  // hands out copies of what it keeps.
  return { ...view, task_executions }
}
