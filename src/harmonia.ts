import type { InspectionEvent, Observer } from 'xstate'
import { systemClock, type Clock } from './actors/clock.js'
import { createJournal } from './actors/journal.js'
import { createLogger, type Logger } from './actors/logger.js'
import { newTaskExecution } from './actors/projection.js'
import { createSemaphore } from './actors/semaphore.js'
import { createSupervisor } from './actors/supervisor.js'
import { harmoniaComponent } from './components/harmonia.component.js'
import { createComponentRegistry, type Component } from './components/registry.js'
import { createMemoryStore } from './db/memory.store.js'
import type { Store, WorkflowRecord } from './db/store.js'
import { ConflictError, NotFoundError, ValidationError } from './errors.js'
import { DEFAULT_MAX_TASKS } from './model/definition.js'
import type { ExecutionEvent } from './model/events.js'
import { isUuid, uuidv7 } from './model/ids.js'
import { resolveExecutionInput } from './model/input.js'
import {
  DEFAULT_LIST_LIMIT,
  MAX_LIST_LIMIT,
  type Execution,
  type ExecutionListQuery,
  type ExecutionSummary,
  type ListQuery,
  type Page,
  type Workflow,
} from './model/resources.js'
import { isTerminalExecutionStatus } from './model/status.js'
import { parseWorkflowDefinition } from './model/validate.js'

export type HarmoniaOptions = {
  /** Components registered at creation. When given, the component set is known: workflows naming others are rejected. */
  components?: Record<string, Component>
  /** Reject workflows that name an unregistered component or action (default: true when `components` is given). */
  strictComponents?: boolean
  /** Timers and timestamps (default: the system clock). XState's SimulatedClock works here. */
  clock?: Clock
  /** The random source for jitter (default Math.random). */
  random?: () => number
  logger?: Logger
  /** Observes every actor: pass `createWebSocketInspector().inspect` from @statelyai/inspect, or a function. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void)
  /** Attempts in flight across the whole process (default 1,000). */
  maxConcurrentTasks?: number
  /** Tasks per workflow (default 10,000). */
  maxTasks?: number
  /** Storage (default: in memory). */
  store?: Store
}

export type StartExecutionRequest = {
  workflow_id: string
  input?: unknown
  version?: number
  metadata?: Record<string, unknown>
}

export type Harmonia = ReturnType<typeof createHarmoniaSync>

function page(query: ListQuery): { limit: number; offset: number } {
  const limit = query.limit ?? DEFAULT_LIST_LIMIT
  const offset = query.offset ?? 0
  const errors = []
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
    errors.push({ path: 'limit', message: `must be an integer from 1 to ${MAX_LIST_LIMIT}` })
  if (!Number.isInteger(offset) || offset < 0) errors.push({ path: 'offset', message: 'must be a non-negative integer' })
  if (errors.length > 0) throw new ValidationError(errors, 'Invalid list query')
  return { limit, offset }
}

function toWorkflow(record: WorkflowRecord): Workflow {
  const d = record.definition
  return {
    workflow_id: record.workflowId,
    name: d.name,
    description: d.description,
    version: record.version,
    metadata: d.metadata,
    input: d.input,
    output: d.output,
    tasks: d.tasks,
    max_concurrency: d.max_concurrency,
    timeout: d.timeout ?? null,
    fail_fast: d.fail_fast,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  }
}

function requireId(kind: string, id: string): void {
  if (!isUuid(id)) throw new NotFoundError(kind, id)
}

/** The one facade every entry point uses (DESIGN.md "One facade"): embedding code, HTTP routes, the CLI. */
export async function createHarmonia(options: HarmoniaOptions = {}): Promise<Harmonia> {
  return createHarmoniaSync(options)
}

function createHarmoniaSync(options: HarmoniaOptions) {
  const clock = options.clock ?? systemClock
  const now = () => (clock.now ? clock.now() : Date.now())
  const logger = options.logger ?? createLogger()
  const store = options.store ?? createMemoryStore()
  const registry = createComponentRegistry()
  registry.register('harmonia', harmoniaComponent)
  for (const [name, actions] of Object.entries(options.components ?? {})) registry.register(name, actions)
  const strict = options.strictComponents ?? options.components !== undefined
  const maxTasks = options.maxTasks ?? DEFAULT_MAX_TASKS
  const journal = createJournal({ store, now, logger })
  const supervisor = createSupervisor({
    store,
    journal,
    registry,
    clock,
    random: options.random ?? Math.random,
    logger,
    semaphore: createSemaphore(options.maxConcurrentTasks ?? 1000),
    ...(options.inspect ? { inspect: options.inspect } : {}),
  })
  let closed = false

  const parse = (body: unknown) => parseWorkflowDefinition(body, { maxTasks, ...(strict ? { components: registry } : {}) })

  async function workflowRecord(workflowId: string, version?: number): Promise<WorkflowRecord> {
    requireId('workflow', workflowId)
    const record = version === undefined ? await store.workflows.latest(workflowId) : await store.workflows.version(workflowId, version)
    if (!record) throw new NotFoundError(version === undefined ? 'workflow' : `workflow version ${version} of`, workflowId)
    return record
  }

  async function getExecution(executionId: string): Promise<Execution> {
    requireId('execution', executionId)
    const execution = await store.executions.get(executionId)
    if (!execution) throw new NotFoundError('execution', executionId)
    return execution
  }

  /** Sends a command and answers with the status it leads to (API.md), unless the execution already ended. */
  async function command(executionId: string, name: 'pause' | 'resume' | 'cancel', leadsTo: Execution['status']): Promise<Execution> {
    requireId('execution', executionId)
    await supervisor[name](executionId)
    const row = await getExecution(executionId)
    return isTerminalExecutionStatus(row.status) ? row : { ...row, status: leadsTo }
  }

  return {
    /** Registers (or extends) a component: `{ action: (input, ctx) => output }`. */
    registerComponent(name: string, actions: Component): void {
      registry.register(name, actions)
    },

    async createWorkflow(body: unknown): Promise<Workflow> {
      const definition = parse(body)
      const at = new Date(now()).toISOString()
      const record: WorkflowRecord = { workflowId: uuidv7(), version: 1, definition, createdAt: at, updatedAt: at }
      await store.workflows.insert(record)
      return toWorkflow(record)
    },

    async getWorkflow(workflowId: string, query: { version?: number } = {}): Promise<Workflow> {
      return toWorkflow(await workflowRecord(workflowId, query.version))
    },

    async listWorkflows(query: ListQuery = {}): Promise<Page<Workflow>> {
      const { limit, offset } = page(query)
      const { items, total } = await store.workflows.list({ limit, offset, ...(query.filter ? { filter: query.filter } : {}) })
      return { items: items.map(toWorkflow), total, limit, offset }
    },

    /** A new version of the workflow; running executions keep the version they started with. */
    async updateWorkflow(workflowId: string, body: unknown): Promise<Workflow> {
      const current = await workflowRecord(workflowId)
      const definition = parse(body)
      const record: WorkflowRecord = {
        workflowId,
        version: current.version + 1,
        definition,
        createdAt: current.createdAt,
        updatedAt: new Date(now()).toISOString(),
      }
      await store.workflows.insert(record)
      return toWorkflow(record)
    },

    async deleteWorkflow(workflowId: string): Promise<void> {
      await workflowRecord(workflowId)
      const active = await store.executions.countActive(workflowId)
      if (active > 0) throw new ConflictError(`workflow ${workflowId} has ${active} execution(s) not finished; cancel them first`)
      await store.workflows.delete(workflowId)
    },

    /** Creates an execution and starts it; resolves once its row exists (status `pending` or `running`). */
    async startExecution(request: StartExecutionRequest): Promise<Execution> {
      if (closed) throw new ConflictError('harmonia is closed')
      const record = await workflowRecord(request.workflow_id, request.version)
      const input = resolveExecutionInput(record.definition.input, request.input)
      const executionId = uuidv7()
      const execution: Execution = {
        execution_id: executionId,
        workflow_id: record.workflowId,
        workflow_version: record.version,
        status: 'pending',
        start_time: null,
        end_time: null,
        input,
        output: null,
        error: null,
        metadata: request.metadata ?? {},
        restored_from: null,
        task_executions: Object.fromEntries(record.definition.tasks.map((t) => [t.id, newTaskExecution(t.id)])),
      }
      await store.executions.insert(execution)
      supervisor.run(execution, record.definition)
      // The row as created: an in-process execution may well have finished before a caller reads it again.
      return execution
    },

    getExecution,

    async listExecutions(query: ExecutionListQuery = {}): Promise<Page<ExecutionSummary>> {
      const { limit, offset } = page(query)
      const { items, total } = await store.executions.list({ ...query, limit, offset })
      return { items: items.map(({ task_executions: _, ...summary }) => summary), total, limit, offset }
    },

    /** Pauses: no new task starts; running attempts finish. Resolves with status `paused`. */
    pauseExecution: (executionId: string) => command(executionId, 'pause', 'paused'),
    /** Resumes a paused execution. Resolves with status `running` (or its end, if it got there first). */
    resumeExecution: (executionId: string) => command(executionId, 'resume', 'running'),
    /** Cancels: running handlers are aborted, unfinished tasks canceled. Resolves with status `canceled`. */
    cancelExecution: (executionId: string) => command(executionId, 'cancel', 'canceled'),

    /** Resolves with the execution once it is completed, failed or canceled. */
    async waitForExecution(executionId: string): Promise<Execution> {
      const execution = await getExecution(executionId)
      if (isTerminalExecutionStatus(execution.status)) return execution
      await supervisor.settled(executionId)
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
    async subscribe(executionId: string, listener: (event: ExecutionEvent) => void, options: { after?: number } = {}): Promise<() => void> {
      await getExecution(executionId)
      return supervisor.subscribe(executionId, listener, options.after ?? 0)
    },

    /** Executions with a live actor in this process. */
    get activeExecutions(): number {
      return supervisor.liveCount
    },

    /** Stops every actor and closes the store. Unfinished executions stay as they are stored. */
    async close(): Promise<void> {
      if (closed) return
      closed = true
      await supervisor.stop()
      await store.close()
    },
  }
}
