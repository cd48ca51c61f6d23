import { newTaskExecution } from '../actors/projection.js'
import type { UserCommand } from '../actors/supervisor.js'
import { TIMEOUT_KEY } from '../actors/timer-keys.js'
import type { WorkflowRecord } from '../db/store.js'
import { InvalidTransitionError, NotFoundError, ValidationError } from '../errors.js'
import { planOf } from '../machines/plan.js'
import { assertStorable, getOwn } from '../json.js'
import type { WorkflowDefinition } from '../model/definition.js'
import type { ExecutionEvent } from '../model/events.js'
import { metricsOf, type ExecutionHistory } from '../model/history.js'
import { uuidv7 } from '../model/ids.js'
import { resolveWorkflowInput } from '../model/input.js'
import { MAX_LIST_LIMIT, pageRequest, toPage } from '../model/paging.js'
import type { CarriedTask, Execution, ExecutionListQuery, ExecutionSummary, Page, ParentLink } from '../model/resources.js'
import { isTerminalExecutionStatus } from '../model/status.js'
import { assertRunnableDirectly } from '../model/template.js'
import { assertOpen, iso, requireId, type ServiceContext } from './context.js'
import { parseTraceparent, TRACEPARENT_KEY } from '../model/trace-context.js'
import type { FinishedCache } from './finished.js'
import type { WorkflowService } from './workflows.js'

/** `POST /api/executions/{id}/rerun`. */
export type RerunRequest = { tasks?: string[]; input?: unknown }

export type StartExecutionRequest = {
  workflow_id: string
  input?: unknown
  version?: number
  metadata?: Record<string, unknown>
  /** The W3C `traceparent` of the request that starts it: kept in its metadata, the parent of its trace. */
  traceparent?: string
}

/** The status each command leads to, which its answer reports (API.md: 202 with `canceled`, `paused`, `running`). */
const LEADS_TO: Record<UserCommand, Execution['status']> = { pause: 'paused', resume: 'running', cancel: 'canceled' }

/** Executions: start, read, list, commands, wait, events, history, rerun (API.md "Executions"). */
export function createExecutionService(ctx: ServiceContext, workflows: WorkflowService, finished: FinishedCache) {
  const { store, supervisor } = ctx

  async function getExecution(executionId: string): Promise<Execution> {
    requireId('execution', executionId)
    const recent = finished.get(executionId)
    if (recent) return recent
    const execution = await store.executions.get(executionId)
    if (!execution) throw new NotFoundError('execution', executionId)
    return execution
  }

  function newExecution(record: WorkflowRecord, input: Record<string, unknown>, extra: Partial<Execution> = {}): Execution {
    return {
      execution_id: uuidv7(),
      workflow_id: record.workflowId,
      workflow_version: record.version,
      status: 'pending',
      start_time: null,
      end_time: null,
      input,
      output: null,
      error: null,
      metadata: {},
      restored_from: null,
      rerun_of: null,
      parent: null,
      task_executions: Object.fromEntries(record.definition.tasks.map((t) => [t.id, newTaskExecution(t.id)])),
      ...extra,
    }
  }

  /** Starts a new execution's actor. Resolves with the row as created (status pending) once its rows are committed. */
  async function launch(
    execution: Execution,
    definition: WorkflowDefinition,
    options: { carried?: Record<string, CarriedTask>; state?: Record<string, unknown>; whileClosing?: boolean } = {},
  ): Promise<Execution> {
    if (!options.whileClosing) assertOpen(ctx)
    const executionId = execution.execution_id
    const timers =
      definition.timeout === undefined
        ? []
        : [{ execution_id: executionId, key: TIMEOUT_KEY, due_at: iso(ctx.now() + definition.timeout * 1000) }]
    const { carried, state = {} } = options
    if (ctx.cluster && !ctx.cluster.hasRoom()) {
      // This node holds all it may: the execution is written unowned, for whichever node has room to claim it.
      await store.executions.create(execution, { owner: null, epoch: 0, timers, state, created_at: iso(ctx.now()) })
      await ctx.cluster.announce().catch(() => {})
      return execution
    }
    const owned = { owner: ctx.nodeId, epoch: 1, leaseSeconds: ctx.leaseSeconds, timers, state }
    supervisor.start(execution, definition, { ...owned, ...(carried ? { carried } : {}) })
    // The rows are committed with the first transitions; a short execution may well have finished by now.
    await supervisor.flushed()
    return execution
  }

  /** A command here when the execution is live here (or nobody else holds it), else through the node that holds it. */
  async function sendCommand(executionId: string, name: UserCommand): Promise<void> {
    if (ctx.cluster && !supervisor.isLive(executionId) && !isTerminalExecutionStatus((await getExecution(executionId)).status)) {
      await ctx.cluster.run(executionId, 'command', { name })
      return
    }
    await supervisor[name](executionId)
  }
  ctx.cluster?.handle('command', (executionId, args: { name: UserCommand }) => supervisor[args.name](executionId))

  /** Resolves at the execution's terminal event, wherever it runs (events reach every node). */
  async function ended(executionId: string): Promise<void> {
    let unsubscribe: (() => void) | undefined
    let stop = false
    await new Promise<void>((resolve, reject) => {
      supervisor
        .subscribe(
          executionId,
          (event) => {
            if (event.type !== 'workflow_completed' && event.type !== 'workflow_failed' && event.type !== 'workflow_canceled') return
            stop = true
            resolve()
          },
          0,
        )
        .then((off) => {
          unsubscribe = off
          if (stop) off()
        }, reject)
    })
    unsubscribe?.()
  }

  /** Sends a command and answers with the status it leads to; the execution's running sub-workflows follow it. */
  async function command(executionId: string, name: UserCommand): Promise<Execution> {
    requireId('execution', executionId)
    // Linked on task rows (possibly not committed yet), and by their `parent` link (fan-out elements' children).
    const children = [...new Set([...supervisor.children(executionId), ...(await ctx.store.executions.activeChildren(executionId))])]
    await sendCommand(executionId, name)
    for (const child of children) {
      // A child that already ended (or is already paused) keeps its status: nothing to carry over.
      await command(child, name).catch((error: unknown) => {
        if (!(error instanceof InvalidTransitionError || error instanceof NotFoundError)) throw error
      })
    }
    const row = await getExecution(executionId)
    return isTerminalExecutionStatus(row.status) ? row : { ...row, status: LEADS_TO[name] }
  }

  /**
   * Starts a sub-workflow under a parent's task, with the id the parent recorded first (so a restart never starts a
   * second child: the parent finds the id and the child, or starts the child with that id).
   */
  async function startChild(request: {
    execution_id: string
    workflow: WorkflowRecord
    input: unknown
    parent: ParentLink
    /** The parent attempt's span (HandlerContext.traceparent): the child's trace continues the parent's. */
    traceparent?: string
  }): Promise<Execution> {
    const input = resolveWorkflowInput(request.workflow.definition.input, request.input)
    const metadata = request.traceparent ? { [TRACEPARENT_KEY]: request.traceparent } : {}
    const execution = newExecution(request.workflow, input, { execution_id: request.execution_id, parent: request.parent, metadata })
    return launch(execution, request.workflow.definition)
  }

  /**
   * Starts a scheduled execution with the id its tick recorded first (services/scheduler.ts), so that a tick resumed
   * after a crash starts the execution the tick names and never a second one. Resolves once its rows are committed.
   */
  async function startScheduled(request: {
    execution_id: string
    workflow: WorkflowRecord
    input: Record<string, unknown>
    metadata: Record<string, unknown>
  }): Promise<Execution> {
    const execution = newExecution(request.workflow, request.input, { execution_id: request.execution_id, metadata: request.metadata })
    // A tick taken while the engine closes still starts: close() waits for the scheduler before the supervisor stops.
    return launch(execution, request.workflow.definition, { whileClosing: true })
  }

  /**
   * Starts a new execution of the same workflow version that keeps the given completed tasks' outputs (a restored
   * checkpoint, a rerun): those tasks show as completed and never run again.
   */
  async function continueFrom(
    source: Execution,
    carried: Record<string, CarriedTask>,
    extra: Partial<Execution>,
    state: Record<string, unknown>,
  ): Promise<Execution> {
    const record = await workflows.record(source.workflow_id, source.workflow_version)
    const execution = newExecution(record, source.input, extra)
    for (const [taskId, kept] of Object.entries(carried)) {
      const task = getOwn(execution.task_executions, taskId)
      if (!task) continue
      Object.assign(task, { status: 'completed', output: kept.output, attempts: kept.attempts, retries: Math.max(0, kept.attempts - 1) })
    }
    return launch(execution, record.definition, { carried, state })
  }

  /** The tasks a rerun runs again: the named ones and their downstream, else every one that did not complete. */
  async function rerunSet(source: Execution, tasks: readonly string[] | undefined): Promise<Set<string>> {
    if (tasks === undefined)
      return new Set(
        Object.values(source.task_executions)
          .filter((t) => t.status !== 'completed')
          .map((t) => t.task_id),
      )
    const plan = planOf((await workflows.record(source.workflow_id, source.workflow_version)).definition)
    const unknown = tasks.map((id, i) => [id, i] as const).filter(([id]) => !plan.index.has(id))
    if (unknown.length > 0) {
      throw new ValidationError(
        unknown.map(([id, i]) => ({ path: `tasks[${i}]`, message: `the workflow has no task ${JSON.stringify(id)}` })),
      )
    }
    const out = new Set<string>()
    const stack = tasks.map((id) => plan.index.get(id)!)
    while (stack.length > 0) {
      const i = stack.pop()!
      if (out.has(plan.ids[i]!)) continue
      out.add(plan.ids[i]!)
      stack.push(...plan.dependents[i]!)
    }
    return out
  }

  /**
   * A new execution (`rerun_of` the source) where the named `tasks` and everything downstream of them run again and
   * every other completed task keeps its output; without `tasks`, the failed, canceled and skipped ones run again.
   * `input` replaces the execution input for the tasks that run. 409 unless the source has ended.
   */
  async function rerunExecution(executionId: string, request: RerunRequest = {}): Promise<Execution> {
    const source = await getExecution(executionId)
    const rerun = await rerunSet(source, request.tasks)
    if (!isTerminalExecutionStatus(source.status) || rerun.size === 0) {
      throw new InvalidTransitionError(
        'execution',
        executionId,
        'rerun',
        rerun.size === 0 ? `${source.status} (nothing failed: name the tasks to rerun)` : source.status,
      )
    }
    const carried: Record<string, CarriedTask> = {}
    for (const t of Object.values(source.task_executions)) {
      if (t.status === 'completed' && !rerun.has(t.task_id))
        carried[t.task_id] = { status: 'completed', output: t.output, attempts: t.attempts }
    }
    const { definition } = await workflows.record(source.workflow_id, source.workflow_version)
    assertStorable(request.input, 'input')
    const input = request.input === undefined ? source.input : resolveWorkflowInput(definition.input, request.input)
    const state = (await store.state.get(executionId))?.state ?? {}
    return continueFrom({ ...source, input }, carried, { rerun_of: executionId, metadata: source.metadata }, state)
  }

  return {
    get: getExecution,
    continueFrom,
    startChild,
    startScheduled,
    api: {
      /** Creates an execution and starts it; resolves once its row exists (status `pending` or `running`). */
      async startExecution(request: StartExecutionRequest): Promise<Execution> {
        assertOpen(ctx)
        const record = await workflows.record(request.workflow_id, request.version)
        assertRunnableDirectly(record.definition)
        assertStorable(request.input, 'input')
        assertStorable(request.metadata, 'metadata')
        const input = resolveWorkflowInput(record.definition.input, request.input)
        // Only a well-formed header is kept: a malformed one starts a trace of the execution's own (W3C: ignore it).
        const traced = parseTraceparent(request.traceparent) ? { [TRACEPARENT_KEY]: request.traceparent!.trim().toLowerCase() } : {}
        return launch(newExecution(record, input, { metadata: { ...request.metadata, ...traced } }), record.definition)
      },

      getExecution,

      async listExecutions(query: ExecutionListQuery = {}): Promise<Page<ExecutionSummary>> {
        const request = pageRequest(query)
        const result = await store.executions.list({ ...query, ...request })
        return toPage(result, request, ({ task_executions: _, ...summary }) => summary)
      },

      /** Pauses: no new task starts; running attempts finish. Resolves with status `paused`. */
      pauseExecution: (executionId: string) => command(executionId, 'pause'),
      /** Resumes a paused execution. Resolves with status `running` (or its end, if it got there first). */
      resumeExecution: (executionId: string) => command(executionId, 'resume'),
      /** Cancels: running handlers are aborted, unfinished tasks canceled. Resolves with status `canceled`. */
      cancelExecution: (executionId: string) => command(executionId, 'cancel'),

      /** Resolves with the execution once it is completed, failed or canceled. */
      async waitForExecution(executionId: string): Promise<Execution> {
        if (supervisor.isLive(executionId)) await supervisor.settled(executionId)
        const execution = await getExecution(executionId)
        if (isTerminalExecutionStatus(execution.status)) return execution
        // Held by another node (or by none for now): its terminal event reaches this node too.
        if (ctx.cluster) await ended(executionId)
        else await supervisor.settled(executionId)
        return getExecution(executionId)
      },

      /** The execution's events after `after` (default: all), in order. */
      async getEvents(executionId: string, query: { after?: number } = {}): Promise<ExecutionEvent[]> {
        await getExecution(executionId)
        return store.events.list(executionId, query.after ?? 0)
      },

      /**
       * Calls `listener` with every event of the execution: the stored history after `after` first, then live events,
       * each exactly once and in `seq` order. Returns the function that unsubscribes.
       */
      async subscribe(executionId: string, listener: (event: ExecutionEvent) => void, options: { after?: number } = {}) {
        await getExecution(executionId)
        return supervisor.subscribe(executionId, listener, options.after ?? 0)
      },

      /**
       * Every execution's events as they are committed (live only, no replay), optionally only those of `workflowId` and
       * of `types` (API.md "Event filters"). Returns the function that unsubscribes.
       */
      subscribeAll(
        listener: (event: ExecutionEvent) => void,
        filter: { workflowId?: string; types?: ReadonlySet<ExecutionEvent['type']> } = {},
      ): () => void {
        const { workflowId, types } = filter
        if (workflowId === undefined && types === undefined) return supervisor.subscribeAll(listener)
        return supervisor.subscribeAll((event) => {
          if (types !== undefined && !types.has(event.type)) return
          // Known synchronously: live here, or seen by the feed of other nodes' events.
          const workflow = supervisor.workflowOf(event.execution_id) ?? ctx.cluster?.workflowOf(event.execution_id)
          if (workflowId !== undefined && workflow !== workflowId) return
          listener(event)
        })
      },

      rerunExecution,

      /** A new execution from a failed (or canceled) one: completed tasks keep their outputs; the rest run again. */
      async rerunFailed(executionId: string): Promise<Execution> {
        const source = await getExecution(executionId)
        if (source.status !== 'failed' && source.status !== 'canceled') {
          throw new InvalidTransitionError('execution', executionId, 'rerun', source.status)
        }
        return rerunExecution(executionId)
      },

      /** Events, checkpoints and metrics of an execution (the seed's ExecutionHistory). */
      async getExecutionHistory(executionId: string): Promise<ExecutionHistory> {
        const execution = await getExecution(executionId)
        const [events, checkpoints] = await Promise.all([
          store.events.list(executionId, 0),
          store.checkpoints.list({ execution_id: executionId, limit: MAX_LIST_LIMIT, offset: 0 }),
        ])
        return { execution_id: executionId, events, checkpoints: checkpoints.items, metrics: metricsOf(execution, ctx.now()) }
      },
    },
  }
}
export type ExecutionService = ReturnType<typeof createExecutionService>
export type ExecutionsApi = ExecutionService['api']
