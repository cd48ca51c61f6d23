import type { AuditRecord } from '../model/audit.js'
import type { RemoteComponentRecord } from '../model/components.js'
import type { SignalDoc } from '../model/signals.js'
import type { PendingCursor, SubscriptionCursor, SubscriptionRecord } from '../model/subscriptions.js'
import type { WorkflowDefinition } from '../model/definition.js'
import type { ErrorInfo, ExecutionEvent } from '../model/events.js'
import type { Checkpoint, Execution, ExecutionListQuery, ItemCounts, ListQuery, StateRecord, TaskExecution } from '../model/resources.js'
import type { ExecutionStatus, SkipReason } from '../model/status.js'

/**
 * The storage port of the engine. Two implementations: the in-memory store (embedding tests) and the SQL store
 * (drizzle over PGlite or postgres.js). Nothing above `src/db` knows which one runs.
 *
 * Who writes what (see src/actors/ARCHITECTURE.md):
 * - `executions.create` writes a new execution, its task rows and its timers in one transaction.
 * - `commit` is the only writer of a live execution afterwards: one call per tick carries the rows changed by every
 *   execution in that tick, and is one transaction. Each execution's part is conditional on its `epoch`: when the
 *   stored epoch differs (another node claimed it), the whole commit fails with StaleWriteError and writes nothing.
 */

export type WorkflowRecord = {
  workflowId: string
  version: number
  definition: WorkflowDefinition
  createdAt: string
  updatedAt: string
}

export type TemplateRecord = {
  template_id: string
  name: string
  description: string
  workflow_definition_id: string
  parameters: Record<string, unknown>
  /** The template's own version (1, then + 1 per update). */
  version: number
  /** The workflow version it instantiates. */
  workflow_version: number
  created_at: string
}

/** A task row as the engine keeps it: the wire fields plus what recovery needs. */
export type TaskRow = TaskExecution & {
  /** The task actor's persisted snapshot while it waits (retrying, paused); null otherwise. */
  snapshot: unknown
  skip: SkipReason | null
  /** The attempt that waits for its callback (the component answered 202), with its deadline; null or absent otherwise. */
  awaiting?: TaskAwaiting | null
}

/** An attempt waiting for its component's callback: after a restart it keeps waiting instead of calling again. */
export type TaskAwaiting = { attempt: number; deadline: string | null }

/** One element of a fan-out task (API.md "Fan-out"), as stored once it retried or ended. */
export type ItemRow = {
  index: number
  status: 'running' | 'retrying' | 'completed' | 'failed'
  attempts: number
  output: unknown
  error: ErrorInfo | null
  start_time: string | null
  end_time: string | null
}

/** The execution row's fields that commits change. */
export type ExecutionPatch = {
  status: ExecutionStatus
  start_time: string | null
  end_time: string | null
  output: unknown
  error: ErrorInfo | null
  /** The seq of the last event committed. */
  last_seq: number
}

/** A durable timer: `retry:<task_id>`, `sleep:<task_id>` or `timeout` (the whole execution). */
export type TimerRow = { execution_id: string; key: string; due_at: string }

/** A new execution written by the first commit that carries its facts (see `CommitBatch.creates`). */
export type NewExecution = {
  execution: Execution
  owner: string
  epoch: number
  timers: TimerRow[]
  state: Record<string, unknown>
  /** ISO time from the engine's clock: the row's `created_at` (list order) and its initial state's `updated_at`. */
  created_at: string
}

export type CommitBatch = {
  /**
   * New executions, with their task rows, timers and state: written first, so that a short execution's creation and
   * its first transitions (or all of them) share one transaction.
   */
  creates: NewExecution[]
  executions: Array<{ execution_id: string; epoch: number; patch: ExecutionPatch }>
  /** Whole task rows (upserted): bytes per task transition do not grow with the DAG. */
  tasks: Array<{ execution_id: string; row: TaskRow }>
  events: ExecutionEvent[]
  timersSet: TimerRow[]
  timersCleared: Array<{ execution_id: string; key: string }>
  /** State saved by `saveState` for a live execution, committed with its `state_saved` event. */
  states: Array<{ execution_id: string; state: Record<string, unknown>; updated_at: string }>
  /** The signals of an execution, whole (API.md "Signals and approvals"), when they changed in this tick. */
  signals?: Array<{ execution_id: string; signals: SignalDoc; updated_at: string }>
  /** Fan-out elements that changed (upserted, one small row each: bytes per element do not grow with the list). */
  items?: Array<{ execution_id: string; task_id: string; row: ItemRow }>
  /** A fan-out task's progress counts, when its row is not written whole in the same batch. */
  itemCounts?: Array<{ execution_id: string; task_id: string; items: ItemCounts }>
}

/** Everything needed to bring a non-terminal execution back after a restart. */
export type RecoveryRecord = {
  execution: Execution
  /** The epoch this node now owns it with. */
  epoch: number
  last_seq: number
  definition: WorkflowDefinition
  tasks: TaskRow[]
  timers: TimerRow[]
  state: Record<string, unknown>
  /** Its signals (empty when none was ever sent or waited for). */
  signals?: SignalDoc
}

/** A checkpoint with what a restore needs: the outputs of its completed tasks. */
export type CheckpointRecord = Checkpoint & { outputs: Record<string, { output: unknown; attempts: number }> }

/** A schedule tick taken (schedule_ticks): see src/db/schema/schedule-ticks.ts. Times are ISO strings. */
export type ScheduleTickRecord = {
  workflow_id: string
  /** The schedule's key within the workflow (model/schedule.ts `scheduleKey`). */
  schedule: string
  tick: string
  /** The execution the tick starts, chosen before the insert; null when it starts none. */
  execution_id: string | null
  created_at: string
  /** True once the execution's rows are committed (or when there is none to start). */
  started: boolean
}

/** A page as the store answers it; the facade adds `limit` and `offset` (model/resources.ts `Page`). */
export type StorePage<T> = { items: T[]; total: number }

export type Store = {
  /** `memory` or `pglite` or `postgres`. */
  readonly kind: string
  /** Where the data is: a PGlite data folder, `memory://`, or the Postgres URL without its password. */
  readonly location?: string
  workflows: {
    insert(record: WorkflowRecord): Promise<void>
    latest(workflowId: string): Promise<WorkflowRecord | undefined>
    version(workflowId: string, version: number): Promise<WorkflowRecord | undefined>
    list(query: { limit: number; offset: number; filter?: string }): Promise<StorePage<WorkflowRecord>>
    /** Its versions, newest first. */
    versions(workflowId: string, query: { limit: number; offset: number }): Promise<StorePage<{ version: number; created_at: string }>>
    delete(workflowId: string): Promise<boolean>
  }
  templates: {
    /** Stores a template version: the first (a new template) or the next one (`version` + 1, which becomes the latest). */
    insert(record: TemplateRecord): Promise<void>
    /** The latest version, or `version`. */
    get(templateId: string, version?: number): Promise<TemplateRecord | undefined>
    /** Deletes the template with all its versions. */
    delete(templateId: string): Promise<boolean>
    list(query: { limit: number; offset: number; filter?: string }): Promise<StorePage<TemplateRecord>>
  }
  executions: {
    /** Inserts the execution (status pending), its task rows and its timers, owned by `owner` at `epoch`. */
    create(execution: Execution, init: Omit<NewExecution, 'execution'>): Promise<void>
    /** The execution with its task_executions (committed state only). */
    get(executionId: string): Promise<Execution | undefined>
    /** Newest first, without task_executions (an empty object). */
    list(query: Required<Pick<ListQuery, 'limit' | 'offset'>> & Omit<ExecutionListQuery, 'limit' | 'offset'>): Promise<StorePage<Execution>>
    countActive(workflowId: string): Promise<number>
    /** The unfinished sub-workflows an execution's tasks (and fan-out elements) started. */
    activeChildren(parentId: string): Promise<string[]>
    /** The newest sub-workflow that element `index` of a fan-out task started (found again after a restart). */
    childOf(parent: { execution_id: string; task_id: string; index: number }): Promise<string | undefined>
    /**
     * Claims every non-terminal execution for `owner`: bumps each one's epoch (fencing the previous owner) and
     * returns what recovery needs. Single node for now: it claims all of them.
     */
    claimRecoverable(owner: string): Promise<RecoveryRecord[]>
    /** Deletes terminal executions that ended before `before`, with all their rows; returns how many. */
    deleteEndedBefore(before: string): Promise<number>
  }
  events: {
    list(executionId: string, after?: number): Promise<ExecutionEvent[]>
  }
  state: {
    get(executionId: string): Promise<StateRecord | undefined>
    /** Saves the state of an execution that is not live in this process (a live one saves through `commit`). */
    put(record: StateRecord): Promise<void>
  }
  checkpoints: {
    insert(record: CheckpointRecord): Promise<void>
    get(checkpointId: string): Promise<CheckpointRecord | undefined>
    list(query: { execution_id?: string; limit: number; offset: number }): Promise<StorePage<Checkpoint>>
  }
  /** The stored elements of a fan-out task, by index (those that retried or ended). */
  taskItems: { list(executionId: string, taskId: string): Promise<ItemRow[]> }
  /** An execution's signals as committed (for one that is not live in this process). */
  signals: { get(executionId: string): Promise<SignalDoc | undefined> }
  /** Remote components registered through the API (config and Hermes ones are not stored). */
  components: {
    list(): Promise<RemoteComponentRecord[]>
    get(name: string): Promise<RemoteComponentRecord | undefined>
    /** Inserts or replaces by name. */
    put(record: RemoteComponentRecord): Promise<void>
    delete(name: string): Promise<boolean>
  }
  /** Schedule ticks: the exactly-once record of each tick (API.md "Schedules"). */
  schedules: {
    /** Inserts the tick unless that (workflow, schedule, tick) exists; true when this call inserted it. */
    claimTick(record: ScheduleTickRecord): Promise<boolean>
    /** Marks a claimed tick as started (its execution's rows are committed). */
    markStarted(workflowId: string, schedule: string, tick: string): Promise<void>
    /** The newest tick of each schedule, of one workflow or of all. */
    lastTicks(workflowId?: string): Promise<Array<{ workflow_id: string; schedule: string; tick: string }>>
    /** Ticks claimed and not marked started (a crash came in between), oldest first. */
    unstarted(): Promise<ScheduleTickRecord[]>
    /** Forgets a deleted workflow's ticks. */
    deleteWorkflow(workflowId: string): Promise<void>
  }
  /** The audit trail: one row per state-changing request, newest first. */
  audit: {
    /** Appends rows (a batch: one round trip). */
    insert(records: AuditRecord[]): Promise<void>
    list(query: { limit: number; offset: number; target_id?: string; actor?: string }): Promise<StorePage<AuditRecord>>
  }
  /**
   * Event subscriptions (webhooks) and their delivery cursors, one per subscription and execution. Secrets are stored
   * as given (the facade seals them). Written by the facade (create, delete) and the delivery worker (cursors, health).
   */
  subscriptions: {
    /**
     * Inserts a subscription and, in the same transaction, a cursor at `last_seq` for every unfinished execution it
     * matches: it gets only events committed after it was created.
     */
    create(record: SubscriptionRecord): Promise<void>
    get(subscriptionId: string): Promise<SubscriptionRecord | undefined>
    /** Oldest first. */
    list(query: { limit: number; offset: number }): Promise<StorePage<SubscriptionRecord>>
    /** Every subscription (the worker's set at start). */
    all(): Promise<SubscriptionRecord[]>
    /** Deletes it with its cursors. */
    delete(subscriptionId: string): Promise<boolean>
    /** Its failure bookkeeping (`failing_since`, `last_error`, `disabled_at`). */
    setHealth(subscriptionId: string, health: Pick<SubscriptionRecord, 'failing_since' | 'last_error' | 'disabled_at'>): Promise<void>
    /** Replaces its stored (sealed) secret: a key rotation. */
    setSecret(subscriptionId: string, secret: string | null): Promise<void>
    cursor(subscriptionId: string, executionId: string): Promise<SubscriptionCursor | undefined>
    /** Inserts or replaces a cursor (ignored when its subscription is gone). */
    putCursor(cursor: SubscriptionCursor): Promise<void>
    /**
     * The cursors of enabled subscriptions that are behind their execution's `last_seq`; an execution created at or
     * after the subscription that has no cursor yet counts from 0.
     */
    pending(): Promise<PendingCursor[]>
  }
  /** Applies one tick of changes atomically (see above). */
  commit(batch: CommitBatch): Promise<void>
  close(): Promise<void>
}
