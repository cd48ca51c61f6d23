import { and, asc, count, desc, eq, gt, ilike, inArray, notInArray, or, sql, type SQL } from 'drizzle-orm'
import { StaleWriteError } from '../errors.js'
import type { ExecutionEvent } from '../model/events.js'
import { isUuid } from '../model/ids.js'
import { setOwn } from '../json.js'
import type { Checkpoint, Execution, TaskExecution } from '../model/resources.js'
import { TERMINAL_EXECUTION_STATUSES } from '../model/status.js'
import type { DatabaseHandle, DbExecutor } from './client.js'
import {
  checkpoints,
  executionEvents,
  executionState,
  executions,
  taskExecutions,
  templates,
  timers,
  workflows,
  workflowVersions,
} from './schema/index.js'
import type { CommitBatch, RecoveryRecord, Store, TaskRow, TemplateRecord, WorkflowRecord } from './store.js'

/**
 * The Store port over drizzle, on PGlite or postgres.js alike (one code path: `DbExecutor` is the common type).
 *
 * Bulk writes pass a whole list of rows as ONE text parameter read by `json_to_recordset`: the SQL text is the same
 * whatever the number of rows, the bind-parameter limit never applies, no driver has to serialise arrays (postgres.js
 * under drizzle cannot send a timestamptz[]), and each jsonb value arrives exactly as JSON (a string stays a string).
 * A tick's writes go as ONE statement (commitStatement), whatever the number of rows. Measured on both drivers,
 * json_to_recordset was as fast as unnest() of arrays and faster than multi-row VALUES.
 *
 * Times are ISO-8601 UTC strings with milliseconds on the port and `timestamptz(3)` in the tables.
 */

/** How long a claim holds an execution before another node may take it (DESIGN.md "The road ahead"). */
const LEASE = sql`now() + interval '30 seconds'`

/** Position of a task row first written by a commit (not by `create`): after the definition's tasks. */
const LATE_POSITION = 2_147_483_647

export function createSqlStore(database: DatabaseHandle): Store {
  const { db } = database

  return {
    kind: database.kind,

    workflows: {
      async insert(record) {
        await db.transaction(async (tx) => {
          const at = new Date(record.updatedAt)
          await tx
            .insert(workflows)
            .values({
              workflowId: record.workflowId,
              name: record.definition.name,
              latestVersion: record.version,
              createdAt: new Date(record.createdAt),
              updatedAt: at,
            })
            .onConflictDoUpdate({
              target: workflows.workflowId,
              set: { name: sql`excluded.name`, latestVersion: sql`excluded.latest_version`, updatedAt: sql`excluded.updated_at` },
              // An older version written late never hides the newer one.
              setWhere: sql`${workflows.latestVersion} < excluded.latest_version`,
            })
          await tx
            .insert(workflowVersions)
            .values({ workflowId: record.workflowId, version: record.version, definition: record.definition, createdAt: at })
        })
      },

      async latest(workflowId) {
        if (!isUuid(workflowId)) return undefined
        return selectWorkflow(db, workflowId, sql`${workflows.latestVersion}`)
      },

      async version(workflowId, version) {
        if (!isUuid(workflowId)) return undefined
        return selectWorkflow(db, workflowId, sql`${version}::int`)
      },

      async list({ limit, offset, filter }) {
        const where = filter ? ilike(workflows.name, containing(filter)) : undefined
        const [total] = await db.select({ n: count() }).from(workflows).where(where)
        const rows = await db
          .select({ workflow: workflows, definition: workflowVersions.definition, versionAt: workflowVersions.createdAt })
          .from(workflows)
          .innerJoin(
            workflowVersions,
            and(eq(workflowVersions.workflowId, workflows.workflowId), eq(workflowVersions.version, workflows.latestVersion)),
          )
          .where(where)
          .orderBy(asc(workflows.createdAt), asc(workflows.workflowId))
          .limit(limit)
          .offset(offset)
        return {
          items: rows.map((r) =>
            workflowRecord(r.workflow.workflowId, r.workflow.latestVersion, r.definition, r.workflow.createdAt, r.versionAt),
          ),
          total: total?.n ?? 0,
        }
      },

      async delete(workflowId) {
        if (!isUuid(workflowId)) return false
        // Its versions go with it (on delete cascade).
        const deleted = await db.delete(workflows).where(eq(workflows.workflowId, workflowId)).returning({ id: workflows.workflowId })
        return deleted.length > 0
      },
    },

    templates: {
      async insert(record) {
        await db.insert(templates).values({
          templateId: record.template_id,
          name: record.name,
          description: record.description,
          workflowDefinitionId: record.workflow_definition_id,
          parameters: record.parameters,
          version: record.version,
          createdAt: new Date(record.created_at),
        })
      },

      async get(templateId) {
        if (!isUuid(templateId)) return undefined
        const [row] = await db.select().from(templates).where(eq(templates.templateId, templateId))
        return row && templateRecord(row)
      },

      async list({ limit, offset, filter }) {
        const where = filter ? ilike(templates.name, containing(filter)) : undefined
        const [total] = await db.select({ n: count() }).from(templates).where(where)
        const rows = await db
          .select()
          .from(templates)
          .where(where)
          .orderBy(asc(templates.createdAt), asc(templates.templateId))
          .limit(limit)
          .offset(offset)
        return { items: rows.map(templateRecord), total: total?.n ?? 0 }
      },
    },

    executions: {
      async create(execution, init) {
        await commitStatement(db, {
          creates: [{ execution, ...init }],
          executions: [],
          tasks: [],
          events: [],
          timersSet: [],
          timersCleared: [],
          states: [],
        })
      },

      async get(executionId) {
        if (!isUuid(executionId)) return undefined
        // One statement, so the execution row and its task rows come from the same snapshot.
        const [row] = await db
          .select({ execution: executions, tasks: wireTasksJson })
          .from(executions)
          .where(eq(executions.executionId, executionId))
        return row && toExecution(row.execution, row.tasks)
      },

      async list({ limit, offset, status, workflow_id, filter }) {
        if (workflow_id !== undefined && !isUuid(workflow_id)) return { items: [], total: 0 }
        const conditions: SQL[] = []
        if (status !== undefined) conditions.push(eq(executions.status, status))
        if (workflow_id !== undefined) conditions.push(eq(executions.workflowId, workflow_id))
        if (filter) {
          const pattern = containing(filter)
          conditions.push(or(ilike(sql`${executions.executionId}::text`, pattern), ilike(sql`${executions.metadata}::text`, pattern))!)
        }
        const where = and(...conditions)
        const [total] = await db.select({ n: count() }).from(executions).where(where)
        const rows = await db
          .select()
          .from(executions)
          .where(where)
          .orderBy(desc(executions.createdAt), desc(executions.executionId))
          .limit(limit)
          .offset(offset)
        return { items: rows.map((r) => toExecution(r, [])), total: total?.n ?? 0 }
      },

      async countActive(workflowId) {
        if (!isUuid(workflowId)) return 0
        const [row] = await db
          .select({ n: count() })
          .from(executions)
          .where(and(eq(executions.workflowId, workflowId), notInArray(executions.status, [...TERMINAL_EXECUTION_STATUSES])))
        return row?.n ?? 0
      },

      async claimRecoverable(owner) {
        return db.transaction(async (tx) => claimRecoverable(tx, owner))
      },

      async deleteEndedBefore(before) {
        // Task rows, events, timers, state and checkpoints go with each execution (on delete cascade).
        const deleted = await db
          .delete(executions)
          .where(and(inArray(executions.status, [...TERMINAL_EXECUTION_STATUSES]), sql`${executions.endTime} < ${before}::timestamptz`))
          .returning({ id: executions.executionId })
        return deleted.length
      },
    },

    events: {
      async list(executionId, after = 0) {
        if (!isUuid(executionId)) return []
        const rows = await db
          .select()
          .from(executionEvents)
          .where(and(eq(executionEvents.executionId, executionId), gt(executionEvents.seq, after)))
          .orderBy(asc(executionEvents.seq))
        return rows.map(toEvent)
      },
    },

    state: {
      async get(executionId) {
        if (!isUuid(executionId)) return undefined
        const [row] = await db.select().from(executionState).where(eq(executionState.executionId, executionId))
        return row && { execution_id: row.executionId, state: row.state, updated_at: row.updatedAt.toISOString() }
      },

      async put(record) {
        await commitStatement(db, {
          creates: [],
          executions: [],
          tasks: [],
          events: [],
          timersSet: [],
          timersCleared: [],
          states: [record],
        })
      },
    },

    checkpoints: {
      async insert(record) {
        await db.insert(checkpoints).values({
          checkpointId: record.checkpoint_id,
          executionId: record.execution_id,
          createdAt: new Date(record.created_at),
          workflowStatus: record.workflow_status,
          taskStatuses: record.task_statuses,
          completedTasks: record.completed_tasks,
          stateData: record.state_data,
          outputs: record.outputs,
        })
      },

      async get(checkpointId) {
        if (!isUuid(checkpointId)) return undefined
        const [row] = await db.select().from(checkpoints).where(eq(checkpoints.checkpointId, checkpointId))
        return row && { ...toCheckpoint(row), outputs: row.outputs }
      },

      async list({ execution_id, limit, offset }) {
        if (execution_id !== undefined && !isUuid(execution_id)) return { items: [], total: 0 }
        const where = execution_id === undefined ? undefined : eq(checkpoints.executionId, execution_id)
        const [total] = await db.select({ n: count() }).from(checkpoints).where(where)
        const { outputs: _, ...columns } = checkpointColumns
        const rows = await db
          .select(columns)
          .from(checkpoints)
          .where(where)
          .orderBy(asc(checkpoints.createdAt), asc(checkpoints.checkpointId))
          .limit(limit)
          .offset(offset)
        return { items: rows.map(toCheckpoint), total: total?.n ?? 0 }
      },
    },

    async commit(batch) {
      if (
        batch.creates.length +
          batch.executions.length +
          batch.tasks.length +
          batch.events.length +
          batch.timersSet.length +
          batch.timersCleared.length +
          batch.states.length ===
        0
      ) {
        return
      }
      await commitStatement(db, batch)
    },

    close: () => database.close(),
  }
}

// ---------------------------------------------------------------------------------------------------------------
// commit as ONE statement: a tick's writes cost one round trip.

/**
 * Writes one tick with a single statement of data-modifying CTEs (one round trip, atomic by itself):
 * new executions, the fenced execution updates, task rows, events, timers and state. CTEs of one statement share a
 * snapshot, so an execution created in this batch is inserted with its latest values rather than inserted and then
 * updated, and its task rows are merged in JS. When an execution's epoch is no longer current (another owner claimed
 * it), the final SELECT divides by zero: the statement fails as a whole and writes nothing (StaleWriteError).
 */
async function commitStatement(db: DbExecutor, batch: CommitBatch): Promise<void> {
  const patches = lastBy(batch.executions, (e) => e.execution_id)
  const created = batch.creates.map(({ execution, owner, epoch }) => {
    const patch = patches.get(execution.execution_id)?.patch
    patches.delete(execution.execution_id)
    return {
      execution_id: execution.execution_id,
      workflow_id: execution.workflow_id,
      workflow_version: execution.workflow_version,
      status: patch?.status ?? execution.status,
      input: execution.input,
      output: (patch ? patch.output : execution.output) ?? null,
      error: patch ? patch.error : execution.error,
      metadata: execution.metadata,
      restored_from: execution.restored_from,
      start_time: patch ? patch.start_time : execution.start_time,
      end_time: patch ? patch.end_time : execution.end_time,
      last_seq: patch?.last_seq ?? 0,
      owner,
      epoch,
    }
  })
  // Executions are sorted by id so that concurrent writers lock rows in the same order.
  const fenced = [...patches.values()]
    .sort((a, b) => (a.execution_id < b.execution_id ? -1 : 1))
    .map(({ execution_id, epoch, patch }) => ({
      execution_id,
      epoch,
      status: patch.status,
      start_time: patch.start_time,
      end_time: patch.end_time,
      output: patch.output ?? null,
      error: patch.error,
      last_seq: patch.last_seq,
    }))
  const key = (executionId: string, taskId: string) => `${executionId}\u0000${taskId}`
  const dirty = lastBy(batch.tasks, (t) => key(t.execution_id, t.row.task_id))
  const tasks: TaskRecord[] = []
  for (const { execution } of batch.creates) {
    Object.values(execution.task_executions).forEach((task, position) => {
      const k = key(execution.execution_id, task.task_id)
      const latest = dirty.get(k)?.row ?? { ...task, snapshot: null, skip: null }
      dirty.delete(k)
      tasks.push(taskRecord(execution.execution_id, latest, position))
    })
  }
  for (const t of dirty.values()) tasks.push(taskRecord(t.execution_id, t.row, null))
  const events = batch.events.map((e) => ({
    execution_id: e.execution_id,
    seq: e.seq,
    type: e.type,
    task_id: e.task_id ?? null,
    timestamp: e.timestamp,
    data: e.data ?? {},
  }))
  const timersSet = [
    ...batch.creates.flatMap(({ execution, timers }) => timers.map((t) => ({ ...t, execution_id: execution.execution_id }))),
    ...lastBy(batch.timersSet, (t) => key(t.execution_id, t.key)).values(),
  ]
  const cleared = new Set(batch.timersCleared.map((t) => key(t.execution_id, t.key)))
  const timersKept = [...lastBy(timersSet, (t) => key(t.execution_id, t.key)).values()].filter(
    (t) => !cleared.has(key(t.execution_id, t.key)),
  )
  const now = new Date().toISOString()
  const states = [
    ...batch.creates
      .filter((c) => Object.keys(c.state).length > 0)
      .map((c) => ({ execution_id: c.execution.execution_id, state: c.state, updated_at: now })),
    ...lastBy(batch.states, (s) => s.execution_id).values(),
  ]
  const statesKept = [...lastBy(states, (s) => s.execution_id).values()]

  const ctes: SQL[] = []
  if (created.length > 0) {
    ctes.push(sql`created AS (
      INSERT INTO executions (execution_id, workflow_id, workflow_version, status, input, output, error, metadata, restored_from,
        start_time, end_time, last_seq, owner, lease_expires_at, epoch)
      SELECT v.execution_id, v.workflow_id, v.workflow_version, v.status, v.input, v.output, v.error, v.metadata, v.restored_from,
        v.start_time, v.end_time, v.last_seq, v.owner, ${LEASE}, v.epoch
      FROM json_to_recordset(${JSON.stringify(created)}::text::json) AS v(
        execution_id uuid, workflow_id uuid, workflow_version int, status execution_status, input jsonb, output jsonb, error jsonb,
        metadata jsonb, restored_from uuid, start_time timestamptz, end_time timestamptz, last_seq int, owner text, epoch int)
      RETURNING 1)`)
  }
  if (fenced.length > 0) {
    ctes.push(sql`fence AS (
      UPDATE executions AS e
      SET status = v.status, start_time = v.start_time, end_time = v.end_time, output = v.output, error = v.error, last_seq = v.last_seq
      FROM json_to_recordset(${JSON.stringify(fenced)}::text::json) AS v(
        execution_id uuid, epoch int, status execution_status, start_time timestamptz, end_time timestamptz,
        output jsonb, error jsonb, last_seq int)
      WHERE e.execution_id = v.execution_id AND e.epoch = v.epoch
      RETURNING 1)`)
  }
  if (tasks.length > 0) {
    ctes.push(sql`tasks AS (
      INSERT INTO task_executions
        (execution_id, task_id, position, status, attempts, retries, input, output, error, start_time, end_time, snapshot, skip)
      SELECT v.execution_id, v.task_id, coalesce(v.position, ${LATE_POSITION}::int), v.status, v.attempts, v.retries,
        v.input, v.output, v.error, v.start_time, v.end_time, v.snapshot, v.skip
      FROM json_to_recordset(${JSON.stringify(tasks)}::text::json) AS v(
        execution_id uuid, task_id text, position int, status task_status, attempts int, retries int,
        input jsonb, output jsonb, error jsonb, start_time timestamptz, end_time timestamptz, snapshot jsonb, skip text)
      ON CONFLICT (execution_id, task_id) DO UPDATE SET
        status = excluded.status, attempts = excluded.attempts, retries = excluded.retries, input = excluded.input,
        output = excluded.output, error = excluded.error, start_time = excluded.start_time, end_time = excluded.end_time,
        snapshot = excluded.snapshot, skip = excluded.skip
      RETURNING 1)`)
  }
  if (events.length > 0) {
    ctes.push(sql`events AS (
      INSERT INTO execution_events (execution_id, seq, type, task_id, timestamp, data)
      SELECT v.execution_id, v.seq, v.type, v.task_id, v.timestamp, v.data
      FROM json_to_recordset(${JSON.stringify(events)}::text::json) AS v(
        execution_id uuid, seq int, type text, task_id text, timestamp timestamptz, data jsonb)
      RETURNING 1)`)
  }
  if (timersKept.length > 0) {
    ctes.push(sql`timers_set AS (
      INSERT INTO timers (execution_id, key, due_at)
      SELECT v.execution_id, v.key, v.due_at
      FROM json_to_recordset(${JSON.stringify(timersKept)}::text::json) AS v(execution_id uuid, key text, due_at timestamptz)
      ON CONFLICT (execution_id, key) DO UPDATE SET due_at = excluded.due_at
      RETURNING 1)`)
  }
  if (batch.timersCleared.length > 0) {
    ctes.push(sql`timers_cleared AS (
      DELETE FROM timers AS t
      USING json_to_recordset(${JSON.stringify(batch.timersCleared)}::text::json) AS v(execution_id uuid, key text)
      WHERE t.execution_id = v.execution_id AND t.key = v.key
      RETURNING 1)`)
  }
  if (statesKept.length > 0) {
    ctes.push(sql`states AS (
      INSERT INTO execution_state (execution_id, state, updated_at)
      SELECT v.execution_id, v.state, v.updated_at
      FROM json_to_recordset(${JSON.stringify(statesKept)}::text::json) AS v(execution_id uuid, state jsonb, updated_at timestamptz)
      ON CONFLICT (execution_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
      RETURNING 1)`)
  }
  if (ctes.length === 0) return
  // The divisor is a subquery, so the planner cannot fold it: only a missed fence divides by zero, at run time.
  const check =
    fenced.length > 0
      ? sql`SELECT 1 / (SELECT CASE WHEN count(*) = ${fenced.length} THEN 1 ELSE 0 END FROM fence) AS ok`
      : sql`SELECT 1 AS ok`
  try {
    await db.execute(sql`WITH ${sql.join(ctes, sql`, `)} ${check}`)
  } catch (error) {
    if (sqlState(error) !== '22012') throw error
    // Rare path: find which execution missed its fence, to name it.
    const current = rowsOf<{ execution_id: string; epoch: number }>(
      await db.execute(
        sql`SELECT execution_id, epoch FROM executions WHERE execution_id = ANY(${sql.param(fenced.map((f) => f.execution_id))}::uuid[])`,
      ),
    )
    const epochs = new Map(current.map((r) => [r.execution_id, Number(r.epoch)]))
    const stale = fenced.find((f) => epochs.get(f.execution_id) !== f.epoch) ?? fenced[0]!
    throw new StaleWriteError('execution', stale.execution_id, stale.epoch)
  }
}

/** The SQLSTATE of a driver error (drizzle may wrap it). */
function sqlState(error: unknown): string | undefined {
  for (let e: unknown = error; e !== null && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
  }
  return undefined
}

type TaskRecord = {
  execution_id: string
  task_id: string
  position: number | null
  status: TaskRow['status']
  attempts: number
  retries: number
  input: unknown
  output: unknown
  error: TaskRow['error']
  start_time: string | null
  end_time: string | null
  snapshot: unknown
  skip: TaskRow['skip']
}

/** A task row as the recordset carries it; `position` null keeps the stored one (or puts a new row last). */
function taskRecord(executionId: string, row: TaskRow, position: number | null): TaskRecord {
  return {
    execution_id: executionId,
    task_id: row.task_id,
    position,
    status: row.status,
    attempts: row.attempts,
    retries: row.retries,
    input: row.input ?? null,
    output: row.output ?? null,
    error: row.error,
    start_time: row.start_time,
    end_time: row.end_time,
    snapshot: row.snapshot ?? null,
    skip: row.skip,
  }
}

// ---------------------------------------------------------------------------------------------------------------
// recovery

/**
 * Claims every non-terminal execution for `owner` (bumping its epoch fences the previous owner's writes), then
 * loads what recovery needs with one set-based query per table. Single node for now: it takes all of them; several
 * nodes will claim unowned or expired ones with FOR UPDATE SKIP LOCKED (DESIGN.md "The road ahead").
 */
async function claimRecoverable(tx: DbExecutor, owner: string): Promise<RecoveryRecord[]> {
  const claimed = await tx
    .update(executions)
    .set({ owner, epoch: sql`${executions.epoch} + 1`, leaseExpiresAt: LEASE })
    .where(notInArray(executions.status, [...TERMINAL_EXECUTION_STATUSES]))
    .returning()
  if (claimed.length === 0) return []
  const ids = sql`ANY(${sql.param(claimed.map((e) => e.executionId))}::uuid[])`

  const definitions = await tx
    .select({ workflowId: workflowVersions.workflowId, version: workflowVersions.version, definition: workflowVersions.definition })
    .from(workflowVersions)
    .where(
      sql`(workflow_versions.workflow_id, workflow_versions.version) IN (
        SELECT e.workflow_id, e.workflow_version FROM executions AS e WHERE e.execution_id = ${ids})`,
    )
  const taskRows = await tx
    .select()
    .from(taskExecutions)
    .where(sql`${taskExecutions.executionId} = ${ids}`)
    .orderBy(asc(taskExecutions.executionId), asc(taskExecutions.position), asc(taskExecutions.taskId))
  const timerRows = await tx
    .select()
    .from(timers)
    .where(sql`${timers.executionId} = ${ids}`)
    .orderBy(asc(timers.executionId), asc(timers.dueAt), asc(timers.key))
  const stateRows = await tx
    .select()
    .from(executionState)
    .where(sql`${executionState.executionId} = ${ids}`)

  const definitionOf = new Map(definitions.map((d) => [`${d.workflowId}:${d.version}`, d.definition]))
  const tasksOf = groupBy(taskRows.map((t) => [t.executionId, toTaskRow(t)] as const))
  const timersOf = groupBy(
    timerRows.map((t) => [t.executionId, { execution_id: t.executionId, key: t.key, due_at: t.dueAt.toISOString() }] as const),
  )
  const stateOf = new Map(stateRows.map((s) => [s.executionId, s.state]))

  const out: RecoveryRecord[] = []
  // Oldest first, as they were created.
  claimed.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.executionId < b.executionId ? -1 : 1))
  for (const row of claimed) {
    const definition = definitionOf.get(`${row.workflowId}:${row.workflowVersion}`)
    // Its workflow version is gone: nothing to run it with (it stays claimed, and is left as it is).
    if (!definition) continue
    const tasks = tasksOf.get(row.executionId) ?? []
    out.push({
      execution: toExecution(row, tasks),
      epoch: row.epoch,
      last_seq: row.lastSeq,
      definition,
      tasks,
      timers: timersOf.get(row.executionId) ?? [],
      state: stateOf.get(row.executionId) ?? {},
    })
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// rows ↔ port records

type ExecutionRow = typeof executions.$inferSelect
type TaskExecutionRow = typeof taskExecutions.$inferSelect

/** The wire fields of a task, from its row (a Date) or from `wireTasksJson` (already ISO text). */
function toWireTask(t: {
  task_id: string
  status: TaskExecution['status']
  start_time: Date | string | null
  end_time: Date | string | null
  input: unknown
  output: unknown
  error: TaskExecution['error']
  retries: number
  attempts: number
}): TaskExecution {
  return {
    task_id: t.task_id,
    status: t.status,
    start_time: toIso(t.start_time),
    end_time: toIso(t.end_time),
    input: t.input,
    output: t.output,
    error: t.error,
    retries: t.retries,
    attempts: t.attempts,
  }
}

function toTaskRow(t: TaskExecutionRow): TaskRow {
  return {
    ...toWireTask({
      task_id: t.taskId,
      status: t.status,
      start_time: t.startTime,
      end_time: t.endTime,
      input: t.input,
      output: t.output,
      error: t.error ?? null,
      retries: t.retries,
      attempts: t.attempts,
    }),
    snapshot: t.snapshot ?? null,
    skip: t.skip ?? null,
  }
}

/**
 * An execution's task rows in definition order, as JSON built by Postgres: read with the row in one statement.
 * The outer column is spelled out: drizzle writes the columns of a one-table select unqualified, and an unqualified
 * `execution_id` here would mean `t.execution_id` (every task row of every execution).
 */
const wireTasksJson = sql<Array<Parameters<typeof toWireTask>[0]>>`(
  SELECT coalesce(json_agg(json_build_object(
    'task_id', t.task_id, 'status', t.status, 'start_time', ${isoText(sql`t.start_time`)}, 'end_time', ${isoText(sql`t.end_time`)},
    'input', t.input, 'output', t.output, 'error', t.error, 'retries', t.retries, 'attempts', t.attempts
  ) ORDER BY t.position, t.task_id), '[]'::json)
  FROM task_executions AS t WHERE t.execution_id = executions.execution_id)`

function toExecution(row: ExecutionRow, tasks: Array<Parameters<typeof toWireTask>[0]>): Execution {
  const task_executions: Execution['task_executions'] = {}
  for (const task of tasks) setOwn(task_executions, task.task_id, toWireTask(task))
  return {
    execution_id: row.executionId,
    workflow_id: row.workflowId,
    workflow_version: row.workflowVersion,
    status: row.status,
    start_time: toIso(row.startTime),
    end_time: toIso(row.endTime),
    input: row.input,
    output: row.output ?? null,
    error: row.error ?? null,
    metadata: row.metadata,
    restored_from: row.restoredFrom,
    task_executions,
  }
}

function toEvent(row: typeof executionEvents.$inferSelect): ExecutionEvent {
  const event: ExecutionEvent = {
    seq: row.seq,
    type: row.type,
    execution_id: row.executionId,
    timestamp: row.timestamp.toISOString(),
    data: row.data,
  }
  if (row.taskId !== null) event.task_id = row.taskId
  return event
}

async function selectWorkflow(db: DbExecutor, workflowId: string, version: SQL): Promise<WorkflowRecord | undefined> {
  const [row] = await db
    .select({
      createdAt: workflows.createdAt,
      version: workflowVersions.version,
      definition: workflowVersions.definition,
      versionAt: workflowVersions.createdAt,
    })
    .from(workflows)
    .innerJoin(workflowVersions, eq(workflowVersions.workflowId, workflows.workflowId))
    .where(and(eq(workflows.workflowId, workflowId), sql`${workflowVersions.version} = ${version}`))
  return row && workflowRecord(workflowId, row.version, row.definition, row.createdAt, row.versionAt)
}

/** A version's record: `createdAt` is the workflow's, `updatedAt` when this version was written. */
function workflowRecord(
  workflowId: string,
  version: number,
  definition: WorkflowRecord['definition'],
  createdAt: Date,
  versionAt: Date,
): WorkflowRecord {
  return { workflowId, version, definition, createdAt: createdAt.toISOString(), updatedAt: versionAt.toISOString() }
}

function templateRecord(row: typeof templates.$inferSelect): TemplateRecord {
  return {
    template_id: row.templateId,
    name: row.name,
    description: row.description,
    workflow_definition_id: row.workflowDefinitionId,
    parameters: row.parameters,
    version: row.version,
    created_at: row.createdAt.toISOString(),
  }
}

const checkpointColumns = {
  checkpointId: checkpoints.checkpointId,
  executionId: checkpoints.executionId,
  createdAt: checkpoints.createdAt,
  workflowStatus: checkpoints.workflowStatus,
  taskStatuses: checkpoints.taskStatuses,
  completedTasks: checkpoints.completedTasks,
  stateData: checkpoints.stateData,
  outputs: checkpoints.outputs,
}

function toCheckpoint(row: Omit<typeof checkpoints.$inferSelect, 'outputs'>): Checkpoint {
  return {
    checkpoint_id: row.checkpointId,
    execution_id: row.executionId,
    created_at: row.createdAt.toISOString(),
    workflow_status: row.workflowStatus,
    task_statuses: row.taskStatuses,
    completed_tasks: row.completedTasks,
    state_data: row.stateData,
  }
}

// ---------------------------------------------------------------------------------------------------------------
// helpers

/** ISO-8601 UTC with milliseconds, as the wire wants it. */
function toIso(value: Date | string | null): string | null {
  if (value === null) return null
  return typeof value === 'string' ? value : value.toISOString()
}

/** A timestamptz formatted by Postgres exactly as `Date.prototype.toISOString()` does. */
function isoText(column: SQL): SQL {
  return sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
}

/** An ILIKE pattern matching `text` anywhere, with its own `%`, `_` and `\` taken literally. */
function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

/** Rows of a raw `execute`: postgres.js returns an array, PGlite `{ rows }`. */
function rowsOf<T>(result: unknown): T[] {
  return Array.isArray(result) ? (result as T[]) : (result as { rows: T[] }).rows
}

/** The last item for each key, in the order keys first appeared. */
function lastBy<T>(list: readonly T[], key: (item: T) => string): Map<string, T> {
  const out = new Map<string, T>()
  for (const item of list) out.set(key(item), item)
  return out
}

function groupBy<K, V>(pairs: ReadonlyArray<readonly [K, V]>): Map<K, V[]> {
  const out = new Map<K, V[]>()
  for (const [k, v] of pairs) {
    const list = out.get(k)
    if (list) list.push(v)
    else out.set(k, [v])
  }
  return out
}
