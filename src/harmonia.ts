import { hostname } from 'node:os'
import type { InspectionEvent, Observer } from 'xstate'
import { createJournal } from './actors/journal.js'
import { createSemaphore } from './actors/semaphore.js'
import { createSupervisor } from './actors/supervisor.js'
import { systemClock, type Clock } from './clock.js'
import { httpAllowFromEnv, registerBuiltins, type BuiltinOptions } from './components/builtins.js'
import { createSecretBox, parseSecretKey } from './components/secret-box.js'
import { loadComponentConfig } from './components/config.js'
import type { Component } from './components/handler.js'
import { createHermesDirectory } from './components/hermes-directory.js'
import { createComponentRegistry } from './components/registry.js'
import { createMemoryStore } from './db/memory.store.js'
import { setExpressionBudget } from './expressions/budget.js'
import type { Store } from './db/store.js'
import { createLogger, type Logger } from './logger.js'
import { DEFAULT_MAX_TASKS } from './model/definition.js'
import type { ScheduleInfo } from './model/schedule.js'
import { parseWorkflowDefinition } from './model/validate.js'
import { createAuditService, type AuditApi } from './services/audit.js'
import { createCallbackService, type CallbacksApi } from './services/callbacks.js'
import { createCheckpointService, type CheckpointsApi } from './services/checkpoints.js'
import { createComponentService, type ComponentsApi, type RemoteRegistration } from './services/components.js'
import type { ServiceContext } from './services/context.js'
import { resolveSecretKey } from './services/secret-key.js'
import { createExecutionService, type ExecutionsApi } from './services/executions.js'
import { createFinishedCache } from './services/finished.js'
import { createRetention, type RetentionOptions } from './services/retention.js'
import { createScheduler } from './services/scheduler.js'
import { createCluster } from './services/cluster.js'
import { VERSION } from './version.js'
import type { NodeRecord } from './db/store.js'
import { createSignalService, type SignalsApi } from './services/signals.js'
import { createSubWorkflowComponent } from './services/subworkflows.js'
import { createSubscriptionService, type SubscriptionsApi } from './services/subscriptions.js'
import { createWebhookWorker } from './services/webhooks.js'
import { createTemplateService, type TemplatesApi } from './services/templates.js'
import { createWorkflowService, type WorkflowsApi } from './services/workflows.js'
import { createMetrics, type Metrics } from './services/metrics.js'
import { createTracing } from './services/tracing.js'

export type { StartExecutionRequest } from './services/executions.js'

export type HarmoniaOptions = BuiltinOptions & {
  /** Components registered at creation. When given, the component set is known: workflows naming others are rejected. */
  components?: Record<string, Component>
  /** Reject workflows that name an unregistered component or action (default: true when `components` is given). */
  strictComponents?: boolean
  /** A component config file (YAML or JSON: aliases of built-ins, remote components), read at start. */
  config?: string
  /** Hermes, the Tekton registry: names no other source knows are looked up there. */
  hermesUrl?: string
  /** Where components reach this server for callbacks (`callback_url`): a URL, or a function read at each call. */
  publicUrl?: string | (() => string | undefined)
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
  /** The key component secrets are stored under (base64, 32 bytes; default HARMONIA_SECRET_KEY, a PGlite data-folder key). */
  secretKey?: string
  /** Steps one expression evaluation may take (default HARMONIA_EXPRESSION_BUDGET, else 500,000); process-wide. */
  expressionBudget?: number
  /**
   * Where executions live: nothing → PGlite in HARMONIA_DATA_DIR (default ./.harmonia); a `postgres://` URL →
   * that Postgres server; `memory://` → an in-memory PGlite; `memory:store` → plain in-memory maps (fastest, no SQL).
   * DATABASE_URL is read when this is not given.
   */
  database?: string
  /** A store to use instead of `database` (tests, custom storage). */
  store?: Store
  /** This process's name as the owner of the executions it runs (default HARMONIA_NODE_ID, else host:pid). */
  nodeId?: string
  /** How long a node's hold on an execution lasts unrenewed, seconds (default HARMONIA_LEASE_SECONDS, else 15). */
  leaseSeconds?: number
  /** Executions one node holds at most (default HARMONIA_MAX_EXECUTIONS, else 10,000); past it, new ones go to other nodes. */
  maxExecutions?: number
  /** LISTEN for other nodes' notifications (default true; HARMONIA_NOTIFICATIONS=off: polling alone). */
  notifications?: boolean
  /** Restore unfinished executions at start (default true). */
  recover?: boolean
  /** Run the workflows' cron schedules (default: as `recover`, so a tool that opens the store for a moment runs none). */
  schedules?: boolean
  /** Delete finished executions older than `maxAgeSeconds`, checking every `intervalSeconds` (default 3600). Off by default. */
  retention?: RetentionOptions
}

/** The engine's public API: one flat object assembled from the per-resource services (src/services). */
export type Harmonia = WorkflowsApi &
  ExecutionsApi &
  TemplatesApi &
  CheckpointsApi &
  ComponentsApi &
  CallbacksApi &
  SignalsApi &
  SubscriptionsApi &
  AuditApi & {
    /** The storage in use: `memory`, `pglite` or `postgres`. */
    readonly storeKind: string
    /** Executions with a live actor in this process. */
    readonly activeExecutions: number
    /** This node's name (API.md "Several nodes"). */
    readonly nodeId: string
    /** The nodes sharing the database, this one included (API.md "Several nodes": GET /api/nodes). */
    listNodes(): Promise<NodeRecord[]>
    /**
     * Graceful stop, first step: no new work is claimed and no attempt starts; resolves once the attempts in flight
     * have finished, or after `graceMs`. `close()` then hands the unfinished executions over.
     */
    drain(graceMs: number): Promise<void>
    /** Restores every unfinished execution from the store (done by createHarmonia unless `recover: false`). */
    recover(): Promise<number>
    /** Registers (or extends) an in-process component, `(name, { action: (input, ctx) => output })`, or a remote one, `({ name, url, … })`. */
    registerComponent(name: string | RemoteRegistration, actions?: Component): void
    /** The latest version's schedules with their next run times and last tick (API.md "Schedules"). */
    listSchedules(workflowId: string): Promise<ScheduleInfo[]>
    /** Deletes finished executions that ended more than `olderThanSeconds` ago (what `retention` does periodically). */
    purgeExecutions(query: { olderThanSeconds: number }): Promise<number>
    /** Seals every stored component secret under a new key (base64, 32 bytes); returns how many. */
    rotateSecrets(key: string): Promise<number>
    /** Resolves once every schedule tick due so far is taken, every transition recorded so far is committed (and its events published), and webhook POSTs in flight answered. */
    flush(): Promise<void>
    /** Prometheus metrics of this node (GET /metrics). */
    readonly metrics: Metrics
    /** Stops every actor and closes the store. Unfinished executions stay as they are stored. */
    close(): Promise<void>
  }

/** The one facade every entry point uses (DESIGN.md "One facade"): embedding code, HTTP routes, the CLI. */
export async function createHarmonia(options: HarmoniaOptions = {}): Promise<Harmonia> {
  const store = options.store ?? (await openStore(options.database ?? (process.env.DATABASE_URL || undefined)))
  try {
    const config = options.config === undefined ? undefined : await loadComponentConfig(options.config)
    const { harmonia, components, scheduler, subscriptions, cluster } = assemble(options, store)
    await components.load(config)
    // Before recovery: the events of recovered executions wake their subscriptions like any other.
    await subscriptions.start()
    if (options.recover ?? true) await harmonia.recover()
    else await cluster?.start(false)
    // Not awaited: missed ticks may take a while to start; `flush()` waits for them.
    if (options.schedules ?? options.recover ?? true) void scheduler.start()
    return harmonia
  } catch (error) {
    // A refused start (a bad config, a key that does not open the stored secrets) must not leave the database open:
    // a pool would keep the process alive, a PGlite folder would stay held.
    if (!options.store) await store.close().catch(() => {})
    throw error
  }
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`)
  return value
}

async function openStore(database: string | undefined): Promise<Store> {
  if (database === 'memory:store') return createMemoryStore()
  const { openDatabase } = await import('./db/client.js')
  const { createSqlStore } = await import('./db/sql.store.js')
  return createSqlStore(await openDatabase(database))
}

/** Wires the runtime (journal, supervisor) and the services over one store. */
function assemble(options: HarmoniaOptions, store: Store) {
  if (options.expressionBudget !== undefined) setExpressionBudget(options.expressionBudget)
  const clock = options.clock ?? systemClock
  const now = () => (clock.now ? clock.now() : Date.now())
  const logger = options.logger ?? createLogger()
  const { publicUrl } = options
  const registry = createComponentRegistry({
    remote: { now, publicUrl: typeof publicUrl === 'function' ? publicUrl : () => publicUrl },
    ...(options.hermesUrl ? { hermes: createHermesDirectory({ url: options.hermesUrl, now }) } : {}),
  })
  registerBuiltins(registry, options)
  for (const [name, actions] of Object.entries(options.components ?? {})) registry.register(name, actions)
  const strict = options.strictComponents ?? options.components !== undefined
  const finished = createFinishedCache()
  // Set by the lease keeper: whether other nodes are alive on this database (then commits carry hints for them).
  const peers = { present: false }
  const journal = createJournal({ store, now, logger, hints: () => peers.present })
  const supervisor = createSupervisor({
    store,
    journal,
    registry,
    clock,
    now,
    onFinished: finished.remember,
    random: options.random ?? Math.random,
    logger,
    semaphore: createSemaphore(options.maxConcurrentTasks ?? 1000),
    ...(options.inspect ? { inspect: options.inspect } : {}),
  })
  let closed = false
  let closing: Promise<void> | null = null
  const nodeId = options.nodeId ?? (process.env.HARMONIA_NODE_ID || `${hostname()}:${process.pid}`)
  const leaseSeconds = options.leaseSeconds ?? envNumber('HARMONIA_LEASE_SECONDS', 15)
  // Renewed every lease/3 and given up a second or more before it ends: shorter leases leave no room.
  if (!(leaseSeconds >= 2)) throw new Error(`the lease must be at least 2 seconds (HARMONIA_LEASE_SECONDS), got ${leaseSeconds}`)
  const startedAt = new Date().toISOString()
  const cluster =
    store.cluster &&
    createCluster(
      { cluster: store.cluster, supervisor, journal, logger, peers },
      {
        nodeId,
        version: VERSION,
        leaseSeconds,
        maxExecutions: options.maxExecutions ?? envNumber('HARMONIA_MAX_EXECUTIONS', 10_000),
        notifications: options.notifications ?? process.env.HARMONIA_NOTIFICATIONS !== 'off',
      },
    )
  // Another node deleted finished executions: what this node remembers of them goes too.
  cluster?.onChange('purged', () => finished.clear())
  const ctx: ServiceContext = {
    store,
    supervisor,
    logger,
    nodeId,
    leaseSeconds,
    now,
    closed: () => closed,
    ...(cluster ? { cluster } : {}),
  }
  const keyring = resolveSecretKey(options.secretKey, store)
  const components = createComponentService(ctx, registry, { strict, keyring })
  const allow = options.httpAllow ?? httpAllowFromEnv()
  const worker = createWebhookWorker({
    store,
    clock,
    now,
    logger,
    // Each node delivers the webhooks of the executions it runs.
    subscribeAll: supervisor.subscribeLocal,
    workflowOf: supervisor.workflowOf,
    allow,
  })
  const subscriptions = createSubscriptionService(ctx, { worker, keyring, allow })
  const parseOptions = { maxTasks: options.maxTasks ?? DEFAULT_MAX_TASKS, components: components.catalog }
  const workflows = createWorkflowService(ctx, async (body) => {
    const definition = parseWorkflowDefinition(body, parseOptions)
    await components.verifyDeferred(definition)
    return definition
  })
  const executions = createExecutionService(ctx, workflows, finished)
  const scheduler = createScheduler(ctx, { clock, workflows, executions })
  workflows.onChange(scheduler.changed)
  registry.register('harmonia', createSubWorkflowComponent(ctx, { workflows, executions }), { source: 'builtin' })
  const retention = createRetention(ctx, finished)
  if (options.retention) retention.start(options.retention)

  const audit = createAuditService(ctx)
  const metrics = createMetrics({ supervisor, journal })
  const tracing = createTracing({ supervisor })
  const harmonia: Harmonia = {
    ...workflows.api,
    ...executions.api,
    ...createTemplateService(ctx, workflows),
    ...createCheckpointService(ctx, executions),
    ...components.api,
    ...createCallbackService(ctx, { workflows, executions, registry }),
    ...audit,
    ...createSignalService(ctx, executions),
    ...subscriptions.api,
    get storeKind() {
      return store.kind
    },
    get activeExecutions() {
      return supervisor.liveCount
    },
    nodeId,
    async listNodes() {
      if (cluster) return cluster.nodes()
      const seen = new Date().toISOString()
      return [{ node_id: nodeId, started_at: startedAt, last_seen: seen, executions_owned: supervisor.liveCount, version: VERSION }]
    },
    async drain(graceMs) {
      const deadline = Date.now() + graceMs
      if (!cluster) {
        // Alone on the database: running executions may finish within the grace (the next start resumes the rest).
        while (supervisor.liveCount > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
        return
      }
      // Several nodes: hand over rather than finish — attempts in flight end, none starts, others take the rest.
      let timer: NodeJS.Timeout | undefined
      await Promise.race([cluster.drain(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))])
      clearTimeout(timer)
    },
    async recover() {
      // Several nodes: this node's share, by lease (services/ownership.ts); alone on the database: everything.
      if (cluster) return cluster.start(true)
      const records = await store.executions.claimRecoverable(nodeId)
      for (const record of records) supervisor.recover(record)
      if (records.length > 0) logger.info('recovered executions', { count: records.length })
      return records.length
    },
    listSchedules: scheduler.listSchedules,
    registerComponent: components.registerComponent,
    async rotateSecrets(key: string) {
      // Subscriptions first: they are opened with the keyring's key, which the components' rotation then replaces.
      const resealed = await subscriptions.rotate(createSecretBox(parseSecretKey(key)))
      return resealed + (await components.rotateSecrets(key))
    },
    purgeExecutions: retention.purgeExecutions,
    metrics,
    async flush() {
      await scheduler.idle()
      await supervisor.flushed()
      await worker.settled()
    },
    close() {
      if (closing) return closing
      closed = true
      closing = (async () => {
        retention.stop()
        metrics.stop()
        tracing.stop()
        // Before the supervisor: a tick being taken still starts its execution (rather than leave its row for the
        // next start to finish); no tick begins after this.
        await scheduler.stop()
        await worker.stop()
        // Before the supervisor: what it stops is released, and must not be claimed back by this node.
        await cluster?.quiesce()
        await supervisor.stop()
        // Releases what the supervisor stopped unfinished: other nodes take it over at once.
        await cluster?.stop()
        // The audit entries of the last answers are written before the store goes.
        await audit.auditWritten()
        await store.close()
      })()
      return closing
    },
  }
  return { harmonia, components, scheduler, subscriptions, cluster }
}
