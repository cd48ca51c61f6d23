import type { Store, WorkflowRecord } from '../db/store.js'
import { ConflictError, NotFoundError } from '../errors.js'
import { assertStorable, isPlainObject } from '../json.js'
import type { WorkflowDefinition } from '../model/definition.js'
import { uuidv7 } from '../model/ids.js'
import { MAX_INT4 } from '../model/limits.js'
import { pageRequest, toPage } from '../model/paging.js'
import type { ListQuery, Page, Workflow } from '../model/resources.js'
import { iso, requireId, type ServiceContext } from './context.js'

/** Told of a workflow's new latest version, or of its deletion (null). */
export type WorkflowChangeListener = (workflowId: string, latest: WorkflowRecord | null) => Promise<void>

/** The wire form of a workflow version (API.md "Workflows"). */
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
    ...(d.schedules ? { schedules: d.schedules } : {}),
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  }
}

/**
 * Workflow versions never change once written, so they are kept (the most recent 500); which version is the latest
 * is kept too and updated by this process's own writes. With several nodes another node may write a new version: its
 * notification drops the entry at once, and without notifications an entry older than `latestTtlMs` is read again,
 * so a node is never more than that behind. Starting an execution needs no workflow read.
 */
function createVersionCache(store: Store, latestTtlMs = Infinity) {
  const versions = new Map<string, WorkflowRecord>()
  const latest = new Map<string, { version: number; at: number }>()
  const remember = (record: WorkflowRecord, isLatest: boolean) => {
    versions.set(`${record.workflowId}:${record.version}`, record)
    if (versions.size > 500) versions.delete(versions.keys().next().value!)
    if (isLatest) latest.set(record.workflowId, { version: record.version, at: Date.now() })
    if (latest.size > 10_000) latest.delete(latest.keys().next().value!)
  }
  const latestOf = (workflowId: string): number | undefined => {
    const entry = latest.get(workflowId)
    return entry && Date.now() - entry.at <= latestTtlMs ? entry.version : undefined
  }
  return {
    remember,
    forget(workflowId: string): void {
      latest.delete(workflowId)
      for (const key of [...versions.keys()]) if (key.startsWith(`${workflowId}:`)) versions.delete(key)
    },
    /** A version (the latest when `version` is left out), from memory or the store; 404 when there is none. */
    get: async (workflowId: string, version?: number): Promise<WorkflowRecord> => {
      requireId('workflow', workflowId)
      // Versions are stored as int4: one outside its range cannot exist (and must not reach the SQL as an overflow).
      if (version !== undefined && !(Number.isInteger(version) && version >= 1 && version <= MAX_INT4)) {
        throw new NotFoundError(`workflow version ${version} of`, workflowId)
      }
      const wanted = version ?? latestOf(workflowId)
      const cached = wanted === undefined ? undefined : versions.get(`${workflowId}:${wanted}`)
      if (cached) return cached
      const record = version === undefined ? await store.workflows.latest(workflowId) : await store.workflows.version(workflowId, version)
      if (!record) throw new NotFoundError(version === undefined ? 'workflow' : `workflow version ${version} of`, workflowId)
      remember(record, version === undefined)
      return record
    },
  }
}

/** Workflows: create, read, list, new versions, delete (API.md "Workflows"). `parse` validates a body. */
export function createWorkflowService(ctx: ServiceContext, parse: (body: unknown) => Promise<WorkflowDefinition>) {
  const cache = createVersionCache(ctx.store, ctx.cluster ? 1000 : Infinity)
  const listeners: WorkflowChangeListener[] = []
  const changed = async (workflowId: string, latest: WorkflowRecord | null) => {
    for (const listener of listeners) await listener(workflowId, latest)
  }
  // Another node wrote a version or deleted the workflow: read it again, and tell the listeners (the scheduler).
  ctx.cluster?.onChange('workflow', (workflowId) => {
    cache.forget(workflowId)
    cache
      .get(workflowId)
      .then(
        (record) => changed(workflowId, record),
        (error: unknown) => (error instanceof NotFoundError ? changed(workflowId, null) : undefined),
      )
      .catch((error: unknown) => ctx.logger.warn('following another node’s workflow change failed', { error: String(error) }))
  })

  async function insert(record: WorkflowRecord): Promise<Workflow> {
    await ctx.store.workflows.insert(record)
    cache.remember(record, true)
    await changed(record.workflowId, record)
    ctx.cluster?.broadcast('workflow', record.workflowId)
    return toWorkflow(record)
  }

  return {
    /** A stored version for the other services (the latest when `version` is left out). */
    record: cache.get,
    /** Calls `listener` after each new version (with it) and each delete (with null): the scheduler follows them. */
    onChange(listener: WorkflowChangeListener): void {
      listeners.push(listener)
    },
    api: {
      /** Validates and stores a new workflow (version 1). */
      async createWorkflow(body: unknown): Promise<Workflow> {
        assertStorable(body, '')
        const definition = await parse(body)
        const at = iso(ctx.now())
        return insert({ workflowId: uuidv7(), version: 1, definition, createdAt: at, updatedAt: at })
      },

      async getWorkflow(workflowId: string, query: { version?: number } = {}): Promise<Workflow> {
        return toWorkflow(await cache.get(workflowId, query.version))
      },

      async listWorkflows(query: ListQuery = {}): Promise<Page<Workflow>> {
        const request = pageRequest(query)
        const result = await ctx.store.workflows.list({ ...request, ...(query.filter ? { filter: query.filter } : {}) })
        return toPage(result, request, toWorkflow)
      },

      /** A new version of the workflow; running executions keep the version they started with. */
      async updateWorkflow(workflowId: string, body: unknown): Promise<Workflow> {
        const current = await cache.get(workflowId)
        assertStorable(body, '')
        // Fields the body leaves out keep their current values (the seed's update sends only what changes).
        const definition = await parse(isPlainObject(body) ? { ...current.definition, ...body } : body)
        const version = current.version + 1
        return insert({ workflowId, version, definition, createdAt: current.createdAt, updatedAt: iso(ctx.now()) })
      },

      /** Its versions, newest first (`{version, created_at}`), paged. */
      async listWorkflowVersions(workflowId: string, query: ListQuery = {}): Promise<Page<{ version: number; created_at: string }>> {
        await cache.get(workflowId)
        const request = pageRequest(query)
        return toPage(await ctx.store.workflows.versions(workflowId, request), request, (v) => v)
      },

      /** Deletes the workflow and its versions; 409 while executions of it are not finished. */
      async deleteWorkflow(workflowId: string): Promise<void> {
        await cache.get(workflowId)
        const active = await ctx.store.executions.countActive(workflowId)
        if (active > 0) throw new ConflictError(`workflow ${workflowId} has ${active} execution(s) not finished; cancel them first`)
        await ctx.store.workflows.delete(workflowId)
        cache.forget(workflowId)
        await changed(workflowId, null)
        ctx.cluster?.broadcast('workflow', workflowId)
      },
    },
  }
}
export type WorkflowService = ReturnType<typeof createWorkflowService>
export type WorkflowsApi = WorkflowService['api']
