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
  /** Null: created for any node to claim (this one is at capacity). */
  owner: string | null
  /** The lease a new owner gets (seconds from the database's now); default 15. */
  lease_seconds?: number
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
  /** NOTIFY sent by the commit itself (only if it commits), for other nodes: `{channel, payload}`. */
  notify?: { channel: string; payload: string }
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

/** An execution a node holds, with the epoch it holds it at (renewals and releases are fenced by it). */
export type HeldLease = { execution_id: string; epoch: number }

/** A node as GET /api/nodes shows it (API.md "Several nodes"). */
export type NodeRecord = { node_id: string; started_at: string; last_seen: string; executions_owned: number; version: string }

/** A command for an execution another node owns (services/commands.ts), as stored. */
export type CommandRecord = { command_id: string; execution_id: string; op: string; args: unknown; answer: unknown }

/** What a claim takes (sql/leases.ts). */
export type ClaimRequest = {
  owner: string
  /** At most this many executions (bounded batches: a busy node leaves work for others). */
  limit: number
  leaseSeconds: number
  /** Owners known to be gone (this node's own previous life, dead processes on this host): their leases do not count. */
  takeOver?: string[]
  /** Only these executions (a command for one nobody holds). */
  ids?: string[]
}

/** Where an execution's committed events stand, for the event feed: its last seq and workflow. */
export type EventHead = { execution_id: string; workflow_id: string; last_seq: number }

/**
 * What several nodes sharing one database need (API.md "Several nodes"); only a store that can be shared has it
 * (Postgres). Lease times are the database's clock, never a node's.
 */
export type ClusterStore = {
  /**
   * Claims unfinished executions that are unowned, whose lease expired, or whose owner is in `takeOver`, with
   * FOR UPDATE SKIP LOCKED (two nodes claiming together take different ones); bumps each one's epoch and returns what
   * recovery needs.
   */
  claim(request: ClaimRequest): Promise<RecoveryRecord[]>
  /** Extends the leases this node still holds at their epoch; returns the ids renewed (the others are lost). */
  renew(owner: string, held: HeldLease[], leaseSeconds: number): Promise<string[]>
  /** Gives executions up (owner and lease cleared) unless their epoch moved on: others may claim them at once. */
  release(held: HeldLease[]): Promise<void>
  /** Owners of unfinished executions whose lease is still valid. */
  owners(): Promise<string[]>
  /** Records that the node is alive (or stopped), with its version. */
  heartbeat(node: { node_id: string; version: string; stopped?: boolean }): Promise<void>
  /** Nodes seen within `seconds`, with the executions each owns. */
  nodes(seconds: number): Promise<NodeRecord[]>
  commands: {
    insert(command: { command_id: string; execution_id: string; op: string; args: unknown }): Promise<void>
    /** Unanswered commands for executions `owner` holds, oldest first. */
    waiting(owner: string): Promise<CommandRecord[]>
    answer(commandId: string, answer: unknown): Promise<void>
    get(commandId: string): Promise<CommandRecord | undefined>
    /** Deletes it unless answered; true when it was deleted (the caller gave up before anyone applied it). */
    withdraw(commandId: string): Promise<boolean>
  }
  /** Where the given executions' events stand; without ids: unfinished ones and those that ended in the last `recentSeconds`. */
  heads(query: { ids?: string[]; recentSeconds?: number }): Promise<EventHead[]>
  /** Events after each cursor, in seq order per execution. */
  eventsAfter(cursors: Array<{ execution_id: string; after: number }>): Promise<ExecutionEvent[]>
  /** NOTIFY on `channel` (a hint: the tables are the truth). */
  notify(channel: string, payload: string): Promise<void>
  /**
   * LISTEN on one dedicated connection; `onListen` runs each time the listen is (re)established, so the caller can
   * catch up on what a dropped connection missed. Resolves with the function that stops listening.
   */
  listen(channel: string, onNotify: (payload: string) => void, onListen?: () => void): Promise<() => Promise<void>>
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
  /** Present when several nodes can share this store (Postgres): leases, claims, cross-node commands, the event feed. */
  cluster?: ClusterStore
  /** Applies one tick of changes atomically (see above). */
  commit(batch: CommitBatch): Promise<void>
  close(): Promise<void>
}
