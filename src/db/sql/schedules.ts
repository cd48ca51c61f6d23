import { and, asc, eq, max, sql } from 'drizzle-orm'
import { isUuid } from '../../model/ids.js'
import type { Database } from '../client.js'
import { scheduleTicks } from '../schema/index.js'
import type { ScheduleTickRecord, Store } from '../store.js'

type TickRow = typeof scheduleTicks.$inferSelect

const toRecord = (row: TickRow): ScheduleTickRecord => ({
  workflow_id: row.workflowId,
  schedule: row.schedule,
  tick: row.tick.toISOString(),
  execution_id: row.executionId,
  created_at: row.createdAt.toISOString(),
  started: row.started,
})

/**
 * Schedule ticks. The claim is the exactly-once point: `ON CONFLICT DO NOTHING` on the primary key (workflow,
 * schedule, tick), so of every node and restart trying the same tick exactly one insert returns a row.
 */
export function scheduleQueries(db: Database): Store['schedules'] {
  return {
    async claimTick(record) {
      const inserted = await db
        .insert(scheduleTicks)
        .values({
          workflowId: record.workflow_id,
          schedule: record.schedule,
          tick: new Date(record.tick),
          executionId: record.execution_id,
          createdAt: new Date(record.created_at),
          started: record.started,
        })
        .onConflictDoNothing()
        .returning({ tick: scheduleTicks.tick })
      return inserted.length > 0
    },

    async markStarted(workflowId, schedule, tick) {
      await db
        .update(scheduleTicks)
        .set({ started: true })
        .where(and(eq(scheduleTicks.workflowId, workflowId), eq(scheduleTicks.schedule, schedule), eq(scheduleTicks.tick, new Date(tick))))
    },

    async lastTicks(workflowId) {
      if (workflowId !== undefined && !isUuid(workflowId)) return []
      // The primary key's index serves this grouping (workflow_id, schedule, then tick).
      const rows = await db
        .select({ workflowId: scheduleTicks.workflowId, schedule: scheduleTicks.schedule, tick: max(scheduleTicks.tick) })
        .from(scheduleTicks)
        .where(workflowId === undefined ? undefined : eq(scheduleTicks.workflowId, workflowId))
        .groupBy(scheduleTicks.workflowId, scheduleTicks.schedule)
      return rows.map((r) => ({ workflow_id: r.workflowId, schedule: r.schedule, tick: new Date(r.tick!).toISOString() }))
    },

    async unstarted() {
      const rows = await db
        .select()
        .from(scheduleTicks)
        .where(sql`NOT ${scheduleTicks.started}`)
        .orderBy(asc(scheduleTicks.tick))
      return rows.map(toRecord)
    },

    async deleteWorkflow(workflowId) {
      if (!isUuid(workflowId)) return
      await db.delete(scheduleTicks).where(eq(scheduleTicks.workflowId, workflowId))
    },
  }
}
