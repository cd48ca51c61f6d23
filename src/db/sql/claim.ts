import { asc, sql } from 'drizzle-orm'
import type { SignalDoc } from '../../model/signals.js'
import type { DbExecutor } from '../client.js'
import { executionSignals, executionState, executions, taskExecutions, timers, workflowVersions } from '../schema/index.js'
import type { ClaimRequest, RecoveryRecord } from '../store.js'
import { groupBy } from './helpers.js'
import { leaseExpiry, UNFINISHED } from './lease.js'
import { toExecution, toTaskRow, toTimerRow } from './mappers.js'

/**
 * The claim: takes unfinished executions for `owner`, then loads what recovery needs (DESIGN.md "Several nodes").
 *
 * Run it in a transaction (the store does), so the claim and the reads see one state of the rows.
 * - Which: unowned ones, those whose lease expired (the database's clock), and those of owners known to be gone
 *   (`takeOver`); `all` ignores leases (one process holds the whole database: PGlite, the memory store). A valid lease
 *   of a live owner is never taken.
 * - `FOR UPDATE SKIP LOCKED` in a bounded, oldest-first batch: nodes claiming at the same moment take different rows
 *   instead of queueing behind each other, and a busy node takes only what it can run.
 * - The UPDATE bumps each claimed execution's epoch: from then on every commit of the previous owner misses its fence
 *   (commit.ts) and writes nothing. That is what makes taking over safe while the previous owner may still be running.
 * - Then one set-based query per table (definitions, task rows, timers, state) for all claimed executions at once,
 *   never one query per execution: recovery of thousands of executions costs six statements.
 *
 * Safe to replay: claiming again only bumps the epoch again; nothing but owner, epoch and lease changes.
 */
export async function claimExecutions(tx: DbExecutor, request: ClaimRequest & { all?: boolean }): Promise<RecoveryRecord[]> {
  const { owner, limit, leaseSeconds, takeOver = [], ids: wanted, all = false } = request
  const eligible = all
    ? sql`TRUE`
    : sql`(owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < now() OR owner = ANY(${sql.param(takeOver)}::text[]))`
  const only = wanted === undefined ? sql`TRUE` : sql`execution_id = ANY(${sql.param(wanted)}::uuid[])`
  const claimed = await tx
    .update(executions)
    .set({ owner, epoch: sql`${executions.epoch} + 1`, leaseExpiresAt: leaseExpiry(leaseSeconds) })
    .where(
      sql`${executions.executionId} IN (
        SELECT execution_id FROM executions
        WHERE ${UNFINISHED} AND ${eligible} AND ${only}
        ORDER BY created_at
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED)`,
    )
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
  const signalRows = await tx
    .select()
    .from(executionSignals)
    .where(sql`${executionSignals.executionId} = ${ids}`)

  const definitionOf = new Map(definitions.map((d) => [`${d.workflowId}:${d.version}`, d.definition]))
  const tasksOf = groupBy(taskRows.map((t) => [t.executionId, toTaskRow(t)] as const))
  const timersOf = groupBy(timerRows.map((t) => [t.executionId, toTimerRow(t)] as const))
  const stateOf = new Map(stateRows.map((s) => [s.executionId, s.state]))
  const signalsOf = new Map(signalRows.map((s) => [s.executionId, s.signals as SignalDoc]))

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
      signals: signalsOf.get(row.executionId) ?? {},
    })
  }
  return out
}

/** Every unfinished execution, leases ignored: the start of the one process that holds the database. */
export const claimRecoverable = (tx: DbExecutor, owner: string): Promise<RecoveryRecord[]> =>
  claimExecutions(tx, { owner, limit: 2_147_483_647, leaseSeconds: 15, all: true })
