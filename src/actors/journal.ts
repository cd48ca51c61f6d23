import { performance } from 'node:perf_hooks'
import type { CommitBatch, ExecutionPatch, ItemRow, NewExecution, Store, TaskAwaiting, TaskRow, TimerRow } from '../db/store.js'
import type { Logger } from '../logger.js'
import type { Emitted, RowFact } from '../machines/events.js'
import type { EventType, ExecutionEvent } from '../model/events.js'
import type { Execution, ItemCounts, StateRecord } from '../model/resources.js'
import type { SignalDoc } from '../model/signals.js'
import { TERMINAL_EXECUTION_STATUSES } from '../model/status.js'
import { createListeners } from './listeners.js'
import { consume, markWaited, receive } from './signals.js'
import { applyFact } from './projection.js'
import { retryKey, TIMEOUT_KEY, timerTask } from './timer-keys.js'
import { createCommitter } from './committer.js'
import { emptyPending, type Pending, type View } from './journal-pending.js'

/**
 * Persist, then publish (DESIGN.md "Durability").
 *
 * Facts from every live execution are stamped (seq, timestamp) as they are emitted and applied to that execution's
 * in-memory rows. While one commit is in flight the next batch gathers; it then goes to the store as one transaction
 * (group commit): the changed execution rows, the changed task rows (whole rows, so bytes per task transition do not
 * grow with the DAG), the new events, timers and state. Only after a batch is committed are its events handed to
 * listeners, in order. A client therefore never sees an event that a crash could take back.
 */

/** A fan-out element's transition (fan-out runner): its event (with `data.index`), its row if stored, the task's counts. */
export type ItemChange = { event: EventType | undefined; data: Record<string, unknown>; row?: ItemRow; counts: ItemCounts }

const TASK_END = new Set(['task_completed', 'task_failed', 'task_canceled', 'task_skipped'])
const WORKFLOW_END: ReadonlySet<string> = new Set(TERMINAL_EXECUTION_STATUSES.map((s) => `workflow_${s}`))

export function createJournal(deps: {
  store: Store
  now: () => number
  logger: Logger
  /** Whether to send commit hints (other nodes share the store right now); read at each commit. */
  hints?: () => boolean
}) {
  const views = new Map<string, View>()
  /** Executions created here whose creating commit is not done yet. */
  const committing = new Map<string, Promise<void>>()
  const listeners = createListeners({ events: deps.store.events, logger: deps.logger })
  /** Told how long each commit took, seconds (metrics). */
  const commitTimers = new Set<(seconds: number) => void>()
  let pending = emptyPending()
  let inFlight: Promise<void> | null = null
  let stampMs = NaN
  let stamp = ''

  /** ISO time of `now()`, formatted once per millisecond (facts come in bursts). */
  const timestamp = (): string => {
    const ms = deps.now()
    if (ms !== stampMs) {
      stampMs = ms
      stamp = new Date(ms).toISOString()
    }
    return stamp
  }

  function buildBatch(batch: Pending): CommitBatch {
    const out: CommitBatch = {
      creates: batch.creates,
      executions: [],
      tasks: [],
      events: batch.events,
      timersSet: [...batch.timersSet.values()],
      timersCleared: [...batch.timersCleared.values()],
      states: batch.states,
      items: batch.items,
      itemCounts: [...batch.itemCounts.values()],
    }
    for (const view of batch.views) {
      const e = view.execution
      // Always written, even unchanged: its epoch check fences every other row of this execution in the batch.
      const patch: ExecutionPatch = {
        status: e.status,
        start_time: e.start_time,
        end_time: e.end_time,
        output: e.output,
        error: e.error,
        last_seq: view.lastSeq,
      }
      out.executions.push({ execution_id: e.execution_id, epoch: view.epoch, patch })
      if (view.signalsDirty) {
        ;(out.signals ??= []).push({ execution_id: e.execution_id, signals: structuredClone(view.signals), updated_at: timestamp() })
        view.signalsDirty = false
      }
      // Rows are copied here: later facts change the view while this batch is being written.
      for (const taskId of view.dirtyTasks) out.tasks.push({ execution_id: e.execution_id, row: { ...view.tasks.get(taskId)! } })
      view.dirtyTasks.clear()
    }
    return out
  }

  const committer = createCommitter({
    store: deps.store,
    logger: deps.logger,
    workflowOf: (id) => views.get(id)?.execution.workflow_id,
    hints: deps.hints ?? (() => false),
  })

  async function drain(): Promise<void> {
    while (pending.creates.length > 0 || pending.views.size > 0 || pending.waiters.length > 0 || pending.states.length > 0) {
      const taken = pending
      pending = emptyPending()
      let batch = buildBatch(taken)
      let failure: Error | null = null
      const stale = new Set<string>()
      const t0 = performance.now()
      try {
        batch = await committer.commit(batch, stale)
        for (const view of taken.views) if (stale.has(view.execution.execution_id)) view.onStale()
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error))
        deps.logger.error('journal commit failed: the executions in it stop here and resume from the store on restart', {
          error: failure.message,
        })
        for (const view of taken.views) view.onStale()
      }
      if (failure === null) {
        // Outside the try: an observer that throws must not pass for a failed commit.
        const seconds = (performance.now() - t0) / 1000
        for (const told of commitTimers) {
          try {
            told(seconds)
          } catch (error) {
            deps.logger.warn('a commit observer failed', { error: String(error) })
          }
        }
        listeners.publish(batch.events)
      }
      for (const waiter of taken.waiters) {
        if (failure === null) waiter.resolve()
        else waiter.reject(failure)
      }
    }
    inFlight = null
  }

  function schedule(): void {
    // setImmediate lets every actor finish its synchronous burst first, so one commit carries the whole tick.
    inFlight ??= new Promise<void>((resolve) => setImmediate(resolve)).then(drain)
  }

  function viewOf(executionId: string): View | undefined {
    const view = views.get(executionId)
    if (view) pending.views.add(view)
    return view
  }

  const timerId = (view: View, key: string) => `${view.execution.execution_id}\u0000${key}`

  function setTimer(view: View, key: string, dueAt: string): void {
    pending.timersCleared.delete(timerId(view, key))
    pending.timersSet.set(timerId(view, key), { execution_id: view.execution.execution_id, key, due_at: dueAt })
    const taskId = timerTask(key)
    if (taskId === undefined) return
    let keys = view.taskTimers.get(taskId)
    if (!keys) view.taskTimers.set(taskId, (keys = new Set()))
    keys.add(key)
  }

  function clearTimer(view: View, key: string): void {
    pending.timersSet.delete(timerId(view, key))
    pending.timersCleared.set(timerId(view, key), { execution_id: view.execution.execution_id, key })
    const taskId = timerTask(key)
    if (taskId !== undefined) view.taskTimers.get(taskId)?.delete(key)
  }

  /**
   * Clears a task's timer only if it has one: every task start would otherwise send a DELETE for a retry timer that
   * never existed. A task's timers are all known here (set through setTimer, or loaded by `open` after a restart).
   */
  function clearTaskTimer(view: View, taskId: string, key: string): void {
    if (view.taskTimers.get(taskId)?.has(key)) clearTimer(view, key)
  }

  function clearTaskTimers(view: View, taskId: string): void {
    for (const key of [...(view.taskTimers.get(taskId) ?? [])]) clearTimer(view, key)
    view.taskTimers.delete(taskId)
  }

  /** The row changes a task fact implies beyond the projection: durable timers, the kept snapshot, the skip cause. */
  function recordTaskFact(view: View, fact: RowFact & { taskId: string }, at: string): void {
    const row = view.tasks.get(fact.taskId)!
    view.dirtyTasks.add(fact.taskId)
    if (fact.type === 'task.status') {
      if (fact.status === 'paused') clearTaskTimer(view, fact.taskId, retryKey(fact.taskId))
      // Released from a pause into a backoff that starts over.
      if (fact.status === 'retrying') setTimer(view, retryKey(fact.taskId), new Date(Date.parse(at) + (fact.delayMs ?? 0)).toISOString())
    } else if (fact.event === 'task_retrying') {
      setTimer(view, retryKey(fact.taskId), new Date(Date.parse(at) + Number(fact.data.delay_ms ?? 0)).toISOString())
    } else if (fact.event === 'task_started') {
      clearTaskTimer(view, fact.taskId, retryKey(fact.taskId))
      row.snapshot = null
      row.awaiting = null
    } else if (TASK_END.has(fact.event)) {
      clearTaskTimers(view, fact.taskId)
      row.snapshot = null
      row.awaiting = null
      if (fact.event === 'task_skipped') row.skip = fact.data.cause === 'condition' ? 'condition' : 'upstream'
    }
  }

  return {
    /** Starts journaling a live execution from its stored rows. */
    open(
      execution: Execution,
      options: { epoch: number; lastSeq?: number; tasks?: TaskRow[]; timers?: TimerRow[]; signals?: SignalDoc; onStale?: () => void },
    ): void {
      const tasks = new Map<string, TaskRow>()
      for (const row of options.tasks ?? []) tasks.set(row.task_id, { ...row })
      for (const [taskId, task] of Object.entries(execution.task_executions)) {
        if (!tasks.has(taskId)) tasks.set(taskId, { ...task, snapshot: null, skip: null })
      }
      const view: View = {
        epoch: options.epoch,
        lastSeq: options.lastSeq ?? 0,
        execution: { ...execution, task_executions: Object.fromEntries(tasks) },
        tasks,
        dirtyTasks: new Set(),
        taskTimers: new Map(),
        state: null,
        signals: options.signals ?? {},
        signalsDirty: false,
        onStale: options.onStale ?? (() => {}),
      }
      for (const timer of options.timers ?? []) {
        const taskId = timerTask(timer.key)
        if (taskId === undefined) continue
        let keys = view.taskTimers.get(taskId)
        if (!keys) view.taskTimers.set(taskId, (keys = new Set()))
        keys.add(timer.key)
      }
      views.set(execution.execution_id, view)
    },
    /**
     * Journals a new execution: its rows are written by the next commit, together with its first transitions, and
     * it is open for facts at once.
     */
    create(created: NewExecution, onStale?: () => void): void {
      const executionId = created.execution.execution_id
      pending.creates.push(created)
      // Settles with the commit that writes the rows (the batch this create joins): see `createdCommit`.
      const committed = new Promise<void>((resolve, reject) => pending.waiters.push({ resolve, reject }))
      committing.set(executionId, committed)
      const forget = () => void (committing.get(executionId) === committed && committing.delete(executionId))
      committed.then(forget, forget)
      this.open(created.execution, { epoch: created.epoch, ...(onStale ? { onStale } : {}) })
      schedule()
    },
    /**
     * Resolves once the rows of an execution created here are committed (at once if they are, or if it was not created
     * here): no component is called for an execution that a crash could take back.
     */
    createdCommit(executionId: string): Promise<void> | undefined {
      return committing.get(executionId)
    },
    /** Forgets an execution once it is terminal and flushed. */
    close(executionId: string): void {
      views.delete(executionId)
    },
    /** Stamps a fact, applies it to the execution's rows, and queues it for the next commit. */
    record(executionId: string, fact: Emitted): void {
      const view = viewOf(executionId)
      if (!view) return
      const at = timestamp()
      if (fact.type === 'execution.signal') {
        receive(view.signals, fact.name, fact.payload, at)
        view.signalsDirty = true
        schedule()
        return
      }
      if (fact.type === 'execution.state') {
        view.state = { execution_id: executionId, state: fact.state, updated_at: at }
        pending.states.push(view.state)
        schedule()
        return
      }
      if (fact.type === 'fact') {
        const event: ExecutionEvent = { seq: ++view.lastSeq, type: fact.event, execution_id: executionId, timestamp: at, data: fact.data }
        if (fact.taskId !== undefined) event.task_id = fact.taskId
        pending.events.push(event)
      }
      applyFact(view.execution, fact, at)
      if (fact.taskId !== undefined) recordTaskFact(view, fact as RowFact & { taskId: string }, at)
      else if (fact.type === 'fact' && WORKFLOW_END.has(fact.event)) clearTimer(view, TIMEOUT_KEY)
      schedule()
    },
    /** Keeps a waiting task actor's persisted snapshot in its row (retrying, paused). */
    recordSnapshot(executionId: string, taskId: string, snapshot: unknown): void {
      const view = viewOf(executionId)
      const row = view?.tasks.get(taskId)
      if (!view || !row) return
      row.snapshot = snapshot
      view.dirtyTasks.add(taskId)
      schedule()
    },
    /** Marks an attempt as waiting for its callback (cleared by its next attempt or its end). */
    recordAwaiting(executionId: string, taskId: string, awaiting: TaskAwaiting): void {
      const view = viewOf(executionId)
      const row = view?.tasks.get(taskId)
      if (!view || !row || row.attempts !== awaiting.attempt) return
      row.awaiting = awaiting
      view.dirtyTasks.add(taskId)
      schedule()
    },
    /**
     * Signals of a live execution (signals.ts): `consume` takes the payload for `consumer` (or undefined: it waits),
     * `waited` marks a name as waited for; both are committed with the next batch. `doc` is a copy for readers.
     */
    signals: {
      consume(executionId: string, name: string, consumer: string): { payload: unknown } | undefined {
        const view = viewOf(executionId)
        if (!view) return undefined
        const found = consume(view.signals, name, consumer)
        if (found?.fresh) {
          view.signalsDirty = true
          schedule()
        }
        return found
      },
      waited(executionId: string, name: string): void {
        const view = viewOf(executionId)
        if (!view || view.signals[name]?.waited) return
        markWaited(view.signals, name)
        view.signalsDirty = true
        schedule()
      },
      doc: (executionId: string): SignalDoc | undefined => {
        const doc = views.get(executionId)?.signals
        return doc && structuredClone(doc)
      },
    },
    /** A fan-out element's transition: one event and one small row; the task row is not rewritten (its counts are). */
    recordItem(executionId: string, taskId: string, change: ItemChange): void {
      const view = viewOf(executionId)
      const row = view?.tasks.get(taskId)
      if (!view || !row) return
      const { event: type, data } = change
      if (type !== undefined)
        pending.events.push({ seq: ++view.lastSeq, type, execution_id: executionId, task_id: taskId, timestamp: timestamp(), data })
      if (change.row) pending.items.push({ execution_id: executionId, task_id: taskId, row: change.row })
      row.items = { ...change.counts }
      pending.itemCounts.set(`${executionId}\u0000${taskId}`, { execution_id: executionId, task_id: taskId, items: row.items })
      schedule()
    },
    /** The sub-workflow a task started (API.md "Sub-workflows": `child_execution_id`). */
    recordChild(executionId: string, taskId: string, childId: string): void {
      const view = viewOf(executionId)
      const row = view?.tasks.get(taskId)
      if (!view || !row) return
      row.child_execution_id = childId
      view.dirtyTasks.add(taskId)
      schedule()
    },
    /** The in-memory row of a live execution's task (uncommitted changes included). */
    task: (executionId: string, taskId: string): TaskRow | undefined => views.get(executionId)?.tasks.get(taskId),
    /** A durable timer owned by a task (cleared when the task settles). */
    setTaskTimer(executionId: string, key: string, dueAt: string): void {
      const view = viewOf(executionId)
      if (!view) return
      setTimer(view, key, dueAt)
      schedule()
    },
    /** Resolves once everything recorded so far is committed and published; rejects if that commit failed. */
    flushed(): Promise<void> {
      return new Promise((resolve, reject) => {
        pending.waiters.push({ resolve, reject })
        schedule()
      })
    },
    /** The in-memory rows of a live execution (uncommitted changes included): for the runtime, never for readers. */
    view: (executionId: string): Execution | undefined => views.get(executionId)?.execution,
    /** The epoch a live execution is held at. */
    epoch: (executionId: string): number | undefined => views.get(executionId)?.epoch,
    /** The state a live execution saved last in this process, if any. */
    savedState: (executionId: string): StateRecord | undefined => views.get(executionId)?.state ?? undefined,
    /** Hands events committed by another node to this node's listeners (in order, each once: listeners.ts). */
    publishRemote: (events: readonly ExecutionEvent[]) => listeners.publish(events, true),
    /** Where listeners stand (services/event-feed.ts): what they have, whom they want. */
    listeners: {
      position: listeners.position,
      wanted: listeners.wanted,
      watched: listeners.watched,
      all: () => listeners.listeningAll,
      onInterest: listeners.onInterest,
    },
    listen: listeners.listen,
    listenAll: listeners.listenAll,
    listenLocal: listeners.listenLocal,
    subscribe: listeners.subscribe,
    /** Calls `listener` with the seconds each commit took; returns the unsubscribe. */
    onCommit(listener: (seconds: number) => void): () => void {
      commitTimers.add(listener)
      return () => commitTimers.delete(listener)
    },
  }
}
export type Journal = ReturnType<typeof createJournal>
