import { sql, type SQL } from 'drizzle-orm'
import { StaleWriteError } from '../../errors.js'
import type { DbExecutor } from '../client.js'
import type { CommitBatch } from '../store.js'
import { commitRecordsets } from './commit-recordsets.js'
import { rowsOf, sqlState } from './helpers.js'
import { leaseExpiry } from './lease.js'

/*
 * The fenced commit: a tick's writes, for every execution in it, as ONE statement of data-modifying CTEs.
 *
 * Why this shape:
 * - One round trip: a tick costs one statement whatever the number of rows (the journal's group commit depends on it).
 *   Each list of rows goes as ONE text parameter read by `json_to_recordset`: the SQL text is the same whatever the
 *   number of rows, the bind-parameter limit never applies, no driver has to serialise arrays (postgres.js under
 *   drizzle cannot send a timestamptz[]), and each jsonb value arrives exactly as JSON (a string stays a string).
 *   Measured on both drivers, json_to_recordset was as fast as unnest() of arrays and faster than multi-row VALUES.
 * - Atomic by itself: one statement is one implicit transaction; no BEGIN/COMMIT round trips, nothing half-written.
 * - Fenced by epoch: each live execution's update is `WHERE epoch = <the writer's epoch>`. A node that lost its claim
 *   (recovery bumped the epoch) updates fewer rows than it sent. The final SELECT then divides by zero (SQLSTATE 22012):
 *   an error raised by the statement itself aborts all of it, so the stale writer's task rows, events, timers and state
 *   are not written either (data-modifying CTEs always run to completion, whatever the outer SELECT reads).
 *
 * Safe to replay: a statement that failed wrote nothing, and sending the same batch again writes the same rows (task
 * rows, timers and state are upserts). One window is not covered: a reply lost after the server committed (the
 * connection dropped at that moment). A retry then meets its own events (primary key execution_id, seq) and fails; the
 * journal stops those executions locally and recovery resumes them from the committed rows at the next start.
 */

/** Position of a task row first written by a commit (not by `create`): after the definition's tasks. */
const LATE_POSITION = 2_147_483_647

/** A batch with nothing but `parts` (for the store's single-purpose writes). */
export function batchOf(parts: Partial<CommitBatch>): CommitBatch {
  return { creates: [], executions: [], tasks: [], events: [], timersSet: [], timersCleared: [], states: [], ...parts }
}

/** Writes one tick as one statement (see above); StaleWriteError when an execution's epoch is no longer current. */
export async function commitStatement(db: DbExecutor, batch: CommitBatch): Promise<void> {
  const sets = commitRecordsets(batch)
  // Each CTE reads its recordset as ONE json parameter; a CTE whose recordset is empty is left out.
  const cte = (rows: unknown[], build: (recordset: SQL) => SQL): SQL[] =>
    rows.length > 0 ? [build(sql`${JSON.stringify(rows)}::text::json`)] : []
  const ctes = [
    // created_at comes from the engine's clock (NewExecution); only the lease expiry is the database's (lease.ts).
    ...cte(
      sets.created,
      (rows) => sql`created AS (
        INSERT INTO executions (execution_id, workflow_id, workflow_version, status, input, output, error, metadata, restored_from,
          rerun_of, parent, start_time, end_time, created_at, last_seq, owner, lease_expires_at, epoch)
        SELECT v.execution_id, v.workflow_id, v.workflow_version, v.status, v.input, v.output, v.error, v.metadata, v.restored_from,
          v.rerun_of, v.parent, v.start_time, v.end_time, v.created_at, v.last_seq, v.owner, ${leaseExpiry(sql`v.lease_seconds`)}, v.epoch
        FROM json_to_recordset(${rows}) AS v(
          execution_id uuid, workflow_id uuid, workflow_version int, status execution_status, input jsonb, output jsonb, error jsonb,
          metadata jsonb, restored_from uuid, rerun_of uuid, parent jsonb, start_time timestamptz, end_time timestamptz, created_at timestamptz, last_seq int,
          owner text, epoch int, lease_seconds int)
        RETURNING 1)`,
    ),
    ...cte(
      sets.fenced,
      (rows) => sql`fence AS (
        UPDATE executions AS e
        SET status = v.status, start_time = v.start_time, end_time = v.end_time, output = v.output, error = v.error, last_seq = v.last_seq
        FROM json_to_recordset(${rows}) AS v(
          execution_id uuid, epoch int, status execution_status, start_time timestamptz, end_time timestamptz,
          output jsonb, error jsonb, last_seq int)
        WHERE e.execution_id = v.execution_id AND e.epoch = v.epoch
        RETURNING 1)`,
    ),
    ...cte(
      sets.tasks,
      (rows) => sql`tasks AS (
        INSERT INTO task_executions
          (execution_id, task_id, position, status, attempts, retries, input, output, error, start_time, end_time, snapshot, skip, awaiting,
          items, child_execution_id)
        SELECT v.execution_id, v.task_id, coalesce(v.position, ${LATE_POSITION}::int), v.status, v.attempts, v.retries,
          v.input, v.output, v.error, v.start_time, v.end_time, v.snapshot, v.skip, v.awaiting, v.items, v.child_execution_id
        FROM json_to_recordset(${rows}) AS v(
          execution_id uuid, task_id text, position int, status task_status, attempts int, retries int,
          input jsonb, output jsonb, error jsonb, start_time timestamptz, end_time timestamptz, snapshot jsonb, skip text,
          awaiting jsonb, items jsonb, child_execution_id uuid)
        ON CONFLICT (execution_id, task_id) DO UPDATE SET
          status = excluded.status, attempts = excluded.attempts, retries = excluded.retries, input = excluded.input,
          output = excluded.output, error = excluded.error, start_time = excluded.start_time, end_time = excluded.end_time,
          snapshot = excluded.snapshot, skip = excluded.skip, awaiting = excluded.awaiting, items = excluded.items,
          child_execution_id = excluded.child_execution_id
        RETURNING 1)`,
    ),
    ...cte(
      sets.events,
      (rows) => sql`events AS (
        INSERT INTO execution_events (execution_id, seq, type, task_id, timestamp, data)
        SELECT v.execution_id, v.seq, v.type, v.task_id, v.timestamp, v.data
        FROM json_to_recordset(${rows}) AS v(execution_id uuid, seq int, type text, task_id text, timestamp timestamptz, data jsonb)
        RETURNING 1)`,
    ),
    ...cte(
      sets.timersSet,
      (rows) => sql`timers_set AS (
        INSERT INTO timers (execution_id, key, due_at)
        SELECT v.execution_id, v.key, v.due_at FROM json_to_recordset(${rows}) AS v(execution_id uuid, key text, due_at timestamptz)
        ON CONFLICT (execution_id, key) DO UPDATE SET due_at = excluded.due_at
        RETURNING 1)`,
    ),
    ...cte(
      sets.timersCleared,
      (rows) => sql`timers_cleared AS (
        DELETE FROM timers AS t USING json_to_recordset(${rows}) AS v(execution_id uuid, key text)
        WHERE t.execution_id = v.execution_id AND t.key = v.key
        RETURNING 1)`,
    ),
    ...cte(
      sets.states,
      (rows) => sql`states AS (
        INSERT INTO execution_state (execution_id, state, updated_at)
        SELECT v.execution_id, v.state, v.updated_at FROM json_to_recordset(${rows}) AS v(execution_id uuid, state jsonb, updated_at timestamptz)
        ON CONFLICT (execution_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
        RETURNING 1)`,
    ),
    ...cte(
      sets.signals,
      (rows) => sql`signals AS (
        INSERT INTO execution_signals (execution_id, signals, updated_at)
        SELECT v.execution_id, v.signals, v.updated_at FROM json_to_recordset(${rows}) AS v(execution_id uuid, signals jsonb, updated_at timestamptz)
        ON CONFLICT (execution_id) DO UPDATE SET signals = excluded.signals, updated_at = excluded.updated_at
        RETURNING 1)`,
    ),
    ...cte(
      sets.items,
      (rows) => sql`items AS (
        INSERT INTO task_items (execution_id, task_id, index, status, attempts, output, error, start_time, end_time)
        SELECT v.execution_id, v.task_id, v.index, v.status, v.attempts, v.output, v.error, v.start_time, v.end_time
        FROM json_to_recordset(${rows}) AS v(execution_id uuid, task_id text, index int, status task_status, attempts int,
          output jsonb, error jsonb, start_time timestamptz, end_time timestamptz)
        ON CONFLICT (execution_id, task_id, index) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
          output = excluded.output, error = excluded.error, start_time = excluded.start_time, end_time = excluded.end_time
        RETURNING 1)`,
    ),
    ...cte(
      sets.itemCounts,
      (rows) => sql`item_counts AS (
        UPDATE task_executions AS t SET items = v.items
        FROM json_to_recordset(${rows}) AS v(execution_id uuid, task_id text, items jsonb)
        WHERE t.execution_id = v.execution_id AND t.task_id = v.task_id
        RETURNING 1)`,
    ),
  ]
  if (ctes.length === 0) return
  const { fenced } = sets
  // The divisor is a subquery, so the planner cannot fold it: only a missed fence divides by zero, at run time.
  // The hint for other nodes rides on the same statement: sent only if it commits, in commit order, no round trip.
  const notify = batch.notify ? sql`, pg_notify(${batch.notify.channel}, ${batch.notify.payload})` : sql``
  const check =
    fenced.length > 0
      ? sql`SELECT 1 / (SELECT CASE WHEN count(*) = ${fenced.length} THEN 1 ELSE 0 END FROM fence) AS ok${notify}`
      : sql`SELECT 1 AS ok${notify}`
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
