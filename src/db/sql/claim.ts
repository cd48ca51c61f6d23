import { asc, notInArray, sql } from 'drizzle-orm'
import type { SignalDoc } from '../../model/signals.js'
import { TERMINAL_EXECUTION_STATUSES } from '../../model/status.js'
import type { DbExecutor } from '../client.js'
import { executionSignals, executionState, executions, taskExecutions, timers, workflowVersions } from '../schema/index.js'
import type { RecoveryRecord } from '../store.js'
import { groupBy } from './helpers.js'
import { LEASE_EXPIRY } from './lease.js'
import { toExecution, toTaskRow, toTimerRow } from './mappers.js'

/**
 * The recovery claim: takes every non-terminal execution for `owner`, then loads what recovery needs.
 *
 * Run it in a transaction (the store does), so the claim and the reads see one state of the rows.
 * - The UPDATE bumps each claimed execution's epoch: from then on every commit of the previous owner misses its fence
 *   (commit.ts) and writes nothing. That is what makes taking over safe while the previous owner may still be running.
 * - Then one set-based query per table (definitions, task rows, timers, state) for all claimed executions at once,
 *   never one query per execution: recovery of thousands of executions costs five statements.
 * - Single node for now: it takes all of them. Several nodes will claim unowned or expired ones with
 *   FOR UPDATE SKIP LOCKED (DESIGN.md "The road ahead").
 *
 * Safe to replay: claiming again only bumps the epoch again; nothing but owner, epoch and lease changes.
 */
export async function claimRecoverable(tx: DbExecutor, owner: string): Promise<RecoveryRecord[]> {
  const claimed = await tx
    .update(executions)
    .set({ owner, epoch: sql`${executions.epoch} + 1`, leaseExpiresAt: LEASE_EXPIRY })
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
