import { hostname } from 'node:os'
import type { InspectionEvent, Observer } from 'xstate'
import { systemClock, type Clock } from './clock.js'
import { createJournal } from './actors/journal.js'
import { createLogger, type Logger } from './logger.js'
import { newTaskExecution } from './actors/projection.js'
import { createSemaphore } from './actors/semaphore.js'
import { createSupervisor } from './actors/supervisor.js'
import { harmoniaComponent } from './components/harmonia.component.js'
import { createComponentRegistry, type Component } from './components/registry.js'
import { createMemoryStore } from './db/memory.store.js'
import type { CheckpointRecord, Store, TemplateRecord, WorkflowRecord } from './db/store.js'
import { ConflictError, InvalidTransitionError, NotFoundError, ValidationError } from './errors.js'
import { DEFAULT_MAX_TASKS, type InputField, type WorkflowDefinition } from './model/definition.js'
import { InstantiateBodySchema, paramReferences, parseWith, substituteParams, TemplateBodySchema } from './model/template.js'
import { metricsOf, type ExecutionHistory } from './model/history.js'
import type { ExecutionEvent } from './model/events.js'
import { isUuid, uuidv7 } from './model/ids.js'
import { assertStorable, getOwn } from './json.js'
import { resolveExecutionInput } from './model/input.js'
import {
  DEFAULT_LIST_LIMIT,
  MAX_LIST_LIMIT,
  type Execution,
  type ExecutionListQuery,
  type ExecutionSummary,
  type ListQuery,
  type Page,
  type CarriedTask,
  type Checkpoint,
  type StateRecord,
  type Template,
  type Workflow,
} from './model/resources.js'
import { isTerminalExecutionStatus } from './model/status.js'
import { parseWorkflowDefinition } from './model/validate.js'
import { MAX_INT4 } from './model/limits.js'

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
  /**
   * Where executions live: nothing → PGlite in HARMONIA_DATA_DIR (default ./.harmonia); a `postgres://` URL →
   * that Postgres server; `memory://` → an in-memory PGlite; `memory:store` → plain in-memory maps (fastest, no SQL).
   * DATABASE_URL is read when this is not given.
   */
  database?: string
  /** A store to use instead of `database` (tests, custom storage). */
  store?: Store
  /** This process's name as the owner of the executions it runs (default: host:pid). */
  nodeId?: string
  /** Restore unfinished executions at start (default true). */
  recover?: boolean
  /** Delete finished executions older than `maxAgeSeconds`, checking every `intervalSeconds` (default 3600). Off by default. */
  retention?: { maxAgeSeconds: number; intervalSeconds?: number }
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
  // A copy: definitions are shared with the engine (cached, and the plans of running executions).
  const d = structuredClone(record.definition)
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

function toCheckpoint({ outputs: _, ...checkpoint }: CheckpointRecord): Checkpoint {
  return checkpoint
}

function requireId(kind: string, id: string): void {
  if (!isUuid(id)) throw new NotFoundError(kind, id)
}

/** The one facade every entry point uses (DESIGN.md "One facade"): embedding code, HTTP routes, the CLI. */
export async function createHarmonia(options: HarmoniaOptions = {}): Promise<Harmonia> {
  const store = options.store ?? (await openStore(options.database ?? (process.env.DATABASE_URL || undefined)))
  const harmonia = createHarmoniaSync(options, store)
  if (options.recover ?? true) await harmonia.recover()
  return harmonia
}

async function openStore(database: string | undefined): Promise<Store> {
  if (database === 'memory:store') return createMemoryStore()
  const { openDatabase } = await import('./db/client.js')
  const { createSqlStore } = await import('./db/sql.store.js')
  return createSqlStore(await openDatabase(database))
}

function createHarmoniaSync(options: HarmoniaOptions, store: Store) {
  const clock = options.clock ?? systemClock
  const now = () => (clock.now ? clock.now() : Date.now())
  const logger = options.logger ?? createLogger()
  const nodeId = options.nodeId ?? `${hostname()}:${process.pid}`
  const registry = createComponentRegistry()
  registry.register('harmonia', harmoniaComponent)
  for (const [name, actions] of Object.entries(options.components ?? {})) registry.register(name, actions)
  const strict = options.strictComponents ?? options.components !== undefined
  const maxTasks = options.maxTasks ?? DEFAULT_MAX_TASKS
  const journal = createJournal({ store, now, logger })
  /**
   * The final state of executions that ended in this process, most recent last: a finished execution no longer changes
   * (only retention deletes it), so reading the result of one that just ended needs no round trip.
   */
  const finished = new Map<string, Execution>()
  const FINISHED_KEPT = 1000
  const remember = (execution: Execution) => {
    finished.set(execution.execution_id, execution)
    if (finished.size > FINISHED_KEPT) finished.delete(finished.keys().next().value!)
  }
  const supervisor = createSupervisor({
    store,
    journal,
    registry,
    clock,
    now,
    onFinished: remember,
    random: options.random ?? Math.random,
    logger,
    semaphore: createSemaphore(options.maxConcurrentTasks ?? 1000),
    ...(options.inspect ? { inspect: options.inspect } : {}),
  })
  let closed = false

  const parse = (body: unknown) => parseWorkflowDefinition(body, { maxTasks, ...(strict ? { components: registry } : {}) })

  async function workflowRecord(workflowId: string, version?: number): Promise<WorkflowRecord> {
    requireId('workflow', workflowId)
    // Versions are stored as int4: one outside its range cannot exist (and must not reach the SQL as an overflow).
    if (version !== undefined && !(Number.isInteger(version) && version >= 1 && version <= MAX_INT4)) {
      throw new NotFoundError(`workflow version ${version} of`, workflowId)
    }
    const wanted = version ?? latestVersion.get(workflowId)
    const cached = wanted === undefined ? undefined : versions.get(`${workflowId}:${wanted}`)
    if (cached) return cached
    const record = version === undefined ? await store.workflows.latest(workflowId) : await store.workflows.version(workflowId, version)
    if (!record) throw new NotFoundError(version === undefined ? 'workflow' : `workflow version ${version} of`, workflowId)
    rememberWorkflow(record, version === undefined)
    return record
  }

  /**
   * Workflow versions never change once written, so they are kept (the most recent 500); which version is the latest
   * is kept too and updated by this process's own writes. Single node: another node's update is not seen here until
   * a restart (the multi-node issue will invalidate it through LISTEN/NOTIFY).
   */
  const versions = new Map<string, WorkflowRecord>()
  const latestVersion = new Map<string, number>()
  function rememberWorkflow(record: WorkflowRecord, isLatest: boolean): void {
    versions.set(`${record.workflowId}:${record.version}`, record)
    if (versions.size > 500) versions.delete(versions.keys().next().value!)
    if (isLatest) latestVersion.set(record.workflowId, record.version)
  }
  function forgetWorkflow(workflowId: string): void {
    latestVersion.delete(workflowId)
    for (const key of [...versions.keys()]) if (key.startsWith(`${workflowId}:`)) versions.delete(key)
  }

  async function getExecution(executionId: string): Promise<Execution> {
    requireId('execution', executionId)
    const recent = finished.get(executionId)
    if (recent) return structuredClone(recent)
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

  const iso = (ms: number) => new Date(ms).toISOString()

  /** Validates and stores a new workflow (version 1). */
  async function createWorkflow(body: unknown): Promise<Workflow> {
    assertStorable(body, '')
    const definition = parse(body)
    const at = iso(now())
    const record: WorkflowRecord = { workflowId: uuidv7(), version: 1, definition, createdAt: at, updatedAt: at }
    await store.workflows.insert(record)
    rememberWorkflow(record, true)
    return toWorkflow(record)
  }

  /** Writes a new execution's rows, then starts its actor. Resolves with the row as created (status pending). */
  async function launch(
    execution: Execution,
    definition: WorkflowDefinition,
    options: { carried?: Record<string, CarriedTask>; state?: Record<string, unknown> },
  ): Promise<Execution> {
    if (closed) throw new ConflictError('harmonia is closed')
    const timers =
      definition.timeout === undefined
        ? []
        : [{ execution_id: execution.execution_id, key: 'timeout', due_at: iso(now() + definition.timeout * 1000) }]
    const state = options.state ?? {}
    supervisor.start(execution, definition, {
      owner: nodeId,
      epoch: 1,
      timers,
      state,
      ...(options.carried ? { carried: options.carried } : {}),
    })
    // Resolves once the rows exist (they are committed with the first transitions). The row as created is returned:
    // a short execution may well have finished by now.
    await journal.flushed()
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
      task_executions: Object.fromEntries(record.definition.tasks.map((t) => [t.id, newTaskExecution(t.id)])),
      ...extra,
    }
  }

  /** Starts a new execution of the same workflow version that keeps the given completed tasks' outputs. */
  async function continueFrom(
    source: Execution,
    carried: Record<string, CarriedTask>,
    extra: Partial<Execution>,
    state: Record<string, unknown>,
  ): Promise<Execution> {
    const record = await workflowRecord(source.workflow_id, source.workflow_version)
    const execution = newExecution(record, source.input, extra)
    for (const [taskId, kept] of Object.entries(carried)) {
      const task = getOwn(execution.task_executions, taskId)
      if (!task) continue
      Object.assign(task, { status: 'completed', output: kept.output, attempts: kept.attempts, retries: Math.max(0, kept.attempts - 1) })
    }
    return launch(execution, record.definition, { carried, state })
  }

  /** Deletes finished executions that ended more than `seconds` ago, with all their rows. */
  async function purge(seconds: number): Promise<number> {
    const removed = await store.executions.deleteEndedBefore(iso(now() - seconds * 1000))
    finished.clear()
    if (removed > 0) logger.info('retention: deleted finished executions', { count: removed })
    return removed
  }

  let sweeper: NodeJS.Timeout | null = null
  if (options.retention) {
    const { maxAgeSeconds, intervalSeconds = 3600 } = options.retention
    const sweep = () => {
      purge(maxAgeSeconds).catch((error: unknown) => logger.error('retention sweep failed', { error: String(error) }))
    }
    sweeper = setInterval(sweep, intervalSeconds * 1000)
    sweeper.unref()
  }

  return {
    /** The storage in use: `memory`, `pglite` or `postgres`. */
    get storeKind(): string {
      return store.kind
    },

    /** Restores every unfinished execution from the store (done by createHarmonia unless `recover: false`). */
    async recover(): Promise<number> {
      const records = await store.executions.claimRecoverable(nodeId)
      for (const record of records) {
        if (supervisor.isLive(record.execution.execution_id)) continue
        supervisor.recover(record)
      }
      if (records.length > 0) logger.info('recovered executions', { count: records.length })
      return records.length
    },

    /** Registers (or extends) a component: `{ action: (input, ctx) => output }`. */
    registerComponent(name: string, actions: Component): void {
      registry.register(name, actions)
    },

    createWorkflow,

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
      assertStorable(body, '')
      // Fields the body leaves out keep their current values (the seed's update sends only what changes).
      const merged = body !== null && typeof body === 'object' && !Array.isArray(body) ? { ...current.definition, ...body } : body
      const definition = parse(merged)
      const record: WorkflowRecord = {
        workflowId,
        version: current.version + 1,
        definition,
        createdAt: current.createdAt,
        updatedAt: new Date(now()).toISOString(),
      }
      await store.workflows.insert(record)
      rememberWorkflow(record, true)
      return toWorkflow(record)
    },

    async deleteWorkflow(workflowId: string): Promise<void> {
      await workflowRecord(workflowId)
      const active = await store.executions.countActive(workflowId)
      if (active > 0) throw new ConflictError(`workflow ${workflowId} has ${active} execution(s) not finished; cancel them first`)
      await store.workflows.delete(workflowId)
      forgetWorkflow(workflowId)
    },

    /** Creates an execution and starts it; resolves once its row exists (status `pending` or `running`). */
    async startExecution(request: StartExecutionRequest): Promise<Execution> {
      if (closed) throw new ConflictError('harmonia is closed')
      const record = await workflowRecord(request.workflow_id, request.version)
      assertStorable(request.input, 'input')
      assertStorable(request.metadata, 'metadata')
      const input = resolveExecutionInput(record.definition.input, request.input)
      return launch(newExecution(record, input, { metadata: request.metadata ?? {} }), record.definition, {})
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
      if (supervisor.isLive(executionId)) await supervisor.settled(executionId)
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

    /** A template over an existing workflow: `${params.<name>}` in the workflow marks where values go. */
    async createTemplate(body: unknown): Promise<Template> {
      assertStorable(body, '')
      const parsed = parseWith(TemplateBodySchema, body)
      const workflow = await workflowRecord(parsed.workflow_definition_id).catch((error: unknown) => {
        if (error instanceof NotFoundError) {
          throw new ValidationError([
            { path: 'workflow_definition_id', message: `workflow ${parsed.workflow_definition_id} does not exist` },
          ])
        }
        throw error
      })
      const undeclared = [...paramReferences(workflow.definition)].filter(([name]) => !Object.hasOwn(parsed.parameters, name))
      if (undeclared.length > 0) {
        throw new ValidationError(
          undeclared.map(([name, at]) => ({
            path: `parameters.${name}`,
            message: `the workflow uses \${params.${name}} (at ${at}) but the template does not declare it`,
          })),
        )
      }
      const record: TemplateRecord = {
        template_id: uuidv7(),
        name: parsed.name,
        description: parsed.description,
        workflow_definition_id: workflow.workflowId,
        parameters: parsed.parameters,
        version: workflow.version,
        created_at: iso(now()),
      }
      await store.templates.insert(record)
      return record as Template
    },

    async getTemplate(templateId: string): Promise<Template> {
      requireId('template', templateId)
      const record = await store.templates.get(templateId)
      if (!record) throw new NotFoundError('template', templateId)
      return record as Template
    },

    async listTemplates(query: ListQuery = {}): Promise<Page<Template>> {
      const { limit, offset } = page(query)
      const result = await store.templates.list({ limit, offset, ...(query.filter ? { filter: query.filter } : {}) })
      return { items: result.items as Template[], total: result.total, limit, offset }
    },

    /** A new workflow from the template with the values substituted (missing required or wrong type → 422). */
    async instantiateTemplate(templateId: string, body: unknown): Promise<Workflow> {
      requireId('template', templateId)
      const template = await store.templates.get(templateId)
      if (!template) throw new NotFoundError('template', templateId)
      assertStorable(body, '')
      const parsed = parseWith(InstantiateBodySchema, body ?? {})
      const unknown = Object.keys(parsed.parameter_values).filter((name) => !Object.hasOwn(template.parameters, name))
      if (unknown.length > 0) {
        throw new ValidationError(
          unknown.map((name) => ({ path: `parameter_values.${name}`, message: `the template has no parameter ${name}` })),
        )
      }
      const values = resolveExecutionInput(template.parameters as Record<string, InputField>, parsed.parameter_values, 'parameter_values')
      const source = await workflowRecord(template.workflow_definition_id, template.version)
      const definition = substituteParams(source.definition, values) as WorkflowDefinition
      const created = await createWorkflow({
        ...definition,
        name: parsed.name ?? `${definition.name} (${template.name})`,
        metadata: { ...definition.metadata, template_id: templateId, parameter_values: values },
      })
      return created
    },

    /** A consistent copy of the execution's task results and state (API.md Checkpoint). */
    async createCheckpoint(executionId: string): Promise<Checkpoint> {
      const execution = await getExecution(executionId)
      // A live execution is read from its in-memory rows (one instant), then flushed so the copy never runs ahead of
      // what is stored; a finished one is read from the store.
      const liveRows = supervisor.liveTasks(executionId)
      const tasks = liveRows ?? Object.values(execution.task_executions)
      const status = journal.view(executionId)?.status ?? execution.status
      const state = (await store.state.get(executionId))?.state ?? {}
      const outputs: CheckpointRecord['outputs'] = {}
      for (const t of tasks) if (t.status === 'completed') outputs[t.task_id] = { output: structuredClone(t.output), attempts: t.attempts }
      const record: CheckpointRecord = {
        checkpoint_id: uuidv7(),
        execution_id: executionId,
        created_at: iso(now()),
        workflow_status: status,
        task_statuses: Object.fromEntries(tasks.map((t) => [t.task_id, t.status])),
        completed_tasks: Object.keys(outputs),
        state_data: state,
        outputs,
      }
      if (liveRows) {
        journal.record(executionId, { type: 'fact', event: 'checkpoint_created', data: { checkpoint_id: record.checkpoint_id } })
        await journal.flushed()
      }
      await store.checkpoints.insert(record)
      return toCheckpoint(record)
    },

    async getCheckpoint(checkpointId: string): Promise<Checkpoint> {
      requireId('checkpoint', checkpointId)
      const record = await store.checkpoints.get(checkpointId)
      if (!record) throw new NotFoundError('checkpoint', checkpointId)
      return toCheckpoint(record)
    },

    async listCheckpoints(query: ListQuery & { execution_id?: string } = {}): Promise<Page<Checkpoint>> {
      const { limit, offset } = page(query)
      const result = await store.checkpoints.list({ limit, offset, ...(query.execution_id ? { execution_id: query.execution_id } : {}) })
      return { ...result, limit, offset }
    },

    /** A new execution that continues from the checkpoint: completed tasks keep their outputs, the rest run. */
    async restoreFromCheckpoint(checkpointId: string): Promise<Execution> {
      requireId('checkpoint', checkpointId)
      const checkpoint = await store.checkpoints.get(checkpointId)
      if (!checkpoint) throw new NotFoundError('checkpoint', checkpointId)
      const source = await getExecution(checkpoint.execution_id)
      const carried = Object.fromEntries(
        Object.entries(checkpoint.outputs).map(([id, kept]) => [
          id,
          { status: 'completed' as const, output: kept.output, attempts: kept.attempts },
        ]),
      )
      return continueFrom(source, carried, { restored_from: checkpointId, metadata: source.metadata }, checkpoint.state_data)
    },

    /** A new execution from a failed (or canceled) one: completed tasks keep their outputs; failed, skipped and canceled ones run again. */
    async rerunFailed(executionId: string): Promise<Execution> {
      const source = await getExecution(executionId)
      if (source.status !== 'failed' && source.status !== 'canceled') {
        throw new InvalidTransitionError('execution', executionId, 'rerun', source.status)
      }
      const carried: Record<string, CarriedTask> = {}
      for (const t of Object.values(source.task_executions)) {
        if (t.status === 'completed') carried[t.task_id] = { status: 'completed', output: t.output, attempts: t.attempts }
      }
      const state = (await store.state.get(executionId))?.state ?? {}
      return continueFrom(source, carried, { metadata: { ...source.metadata, rerun_of: executionId } }, state)
    },

    /** Saves the execution's state: visible to its expressions as `state`, kept in checkpoints. */
    async saveState(executionId: string, state: Record<string, unknown>): Promise<StateRecord> {
      await getExecution(executionId)
      if (state === null || typeof state !== 'object' || Array.isArray(state)) {
        throw new ValidationError([{ path: 'state', message: 'must be a JSON object' }])
      }
      assertStorable(state, 'state')
      const copy = structuredClone(state)
      if (supervisor.setState(executionId, copy)) {
        const updated_at = journal.recordState(executionId, copy)
        journal.record(executionId, { type: 'fact', event: 'state_saved', data: { keys: Object.keys(copy) } })
        await journal.flushed()
        return { execution_id: executionId, state: copy, updated_at }
      }
      const record = { execution_id: executionId, state: copy, updated_at: iso(now()) }
      await store.state.put(record)
      return record
    },

    async loadState(executionId: string): Promise<StateRecord> {
      const execution = await getExecution(executionId)
      return (
        (await store.state.get(executionId)) ?? { execution_id: executionId, state: {}, updated_at: execution.start_time ?? iso(now()) }
      )
    },

    /** Events, checkpoints and metrics of an execution (the seed's ExecutionHistory). */
    async getExecutionHistory(executionId: string): Promise<ExecutionHistory> {
      const execution = await getExecution(executionId)
      const [events, checkpoints] = await Promise.all([
        store.events.list(executionId, 0),
        store.checkpoints.list({ execution_id: executionId, limit: MAX_LIST_LIMIT, offset: 0 }),
      ])
      return { execution_id: executionId, events, checkpoints: checkpoints.items, metrics: metricsOf(execution, now()) }
    },

    /** Deletes finished executions that ended more than `olderThanSeconds` ago (what `retention` does periodically). */
    purgeExecutions: (query: { olderThanSeconds: number }) => purge(query.olderThanSeconds),

    /** Every execution's events as they are committed (live only, no replay). Returns the function that unsubscribes. */
    subscribeAll(listener: (event: ExecutionEvent) => void): () => void {
      return journal.listenAll(listener)
    },

    /** Resolves once every transition recorded so far is committed (and its events published). */
    flush(): Promise<void> {
      return journal.flushed()
    },

    /** Executions with a live actor in this process. */
    get activeExecutions(): number {
      return supervisor.liveCount
    },

    /** Stops every actor and closes the store. Unfinished executions stay as they are stored. */
    async close(): Promise<void> {
      if (closed) return
      closed = true
      if (sweeper) clearInterval(sweeper)
      await supervisor.stop()
      await store.close()
    },
  }
}
