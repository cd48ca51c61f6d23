import { and, asc, eq, gt, isNotNull, isNull, notInArray, or, sql } from 'drizzle-orm'
import { isUuid } from '../../model/ids.js'
import { TERMINAL_EXECUTION_STATUSES } from '../../model/status.js'
import type { EventType } from '../../model/events.js'
import type { SubscriptionCursor, SubscriptionRecord } from '../../model/subscriptions.js'
import type { Database } from '../client.js'
import { executions, subscriptionCursors, subscriptions } from '../schema/index.js'
import type { Store } from '../store.js'
import { paged } from './helpers.js'
import { toIso } from './mappers.js'

type SubscriptionRow = typeof subscriptions.$inferSelect
type CursorRow = typeof subscriptionCursors.$inferSelect

function toRecord(row: SubscriptionRow): SubscriptionRecord {
  return {
    subscription_id: row.subscriptionId,
    url: row.url,
    types: (row.types as EventType[] | null) ?? null,
    workflow_id: row.workflowId,
    secret: row.secret,
    created_at: row.createdAt.toISOString(),
    disabled_at: toIso(row.disabledAt),
    last_error: row.lastError,
    failing_since: toIso(row.failingSince),
  }
}

function toCursor(row: CursorRow): SubscriptionCursor {
  return {
    subscription_id: row.subscriptionId,
    execution_id: row.executionId,
    delivered_seq: row.deliveredSeq,
    attempts: row.attempts,
    next_attempt_at: toIso(row.nextAttemptAt),
    last_error: row.lastError,
  }
}

const date = (iso: string | null) => (iso === null ? null : new Date(iso))
const order = [asc(subscriptions.createdAt), asc(subscriptions.subscriptionId)] as const

/**
 * Subscriptions and their cursors: subscriptions written by the facade, cursors and health by the delivery worker
 * (src/services/webhooks.ts). Events are never copied: a cursor points into the event log.
 */
export function subscriptionQueries(db: Database): Store['subscriptions'] {
  return {
    async create(record) {
      await db.transaction(async (tx) => {
        await tx.insert(subscriptions).values({
          subscriptionId: record.subscription_id,
          url: record.url,
          types: record.types,
          workflowId: record.workflow_id,
          secret: record.secret,
          createdAt: new Date(record.created_at),
          disabledAt: date(record.disabled_at),
          lastError: record.last_error,
          failingSince: date(record.failing_since),
        })
        // Unfinished executions start at what is committed now: the subscription gets only later events.
        const unfinished = notInArray(executions.status, [...TERMINAL_EXECUTION_STATUSES])
        const where = record.workflow_id === null ? unfinished : and(unfinished, eq(executions.workflowId, record.workflow_id))
        await tx.insert(subscriptionCursors).select(
          tx
            .select({
              subscriptionId: sql<string>`${record.subscription_id}::uuid`.as('subscription_id'),
              executionId: executions.executionId,
              deliveredSeq: executions.lastSeq,
              attempts: sql<number>`0`.as('attempts'),
              nextAttemptAt: sql<Date | null>`null::timestamptz`.as('next_attempt_at'),
              lastError: sql<string | null>`null::text`.as('last_error'),
            })
            .from(executions)
            .where(where),
        )
      })
    },

    async get(subscriptionId) {
      if (!isUuid(subscriptionId)) return undefined
      const [row] = await db.select().from(subscriptions).where(eq(subscriptions.subscriptionId, subscriptionId))
      return row && toRecord(row)
    },

    async list({ limit, offset }) {
      const query = db
        .select()
        .from(subscriptions)
        .orderBy(...order)
        .$dynamic()
      const { rows, total } = await paged(db, subscriptions, query, undefined, { limit, offset })
      return { items: rows.map(toRecord), total }
    },

    async all() {
      return (
        await db
          .select()
          .from(subscriptions)
          .orderBy(...order)
      ).map(toRecord)
    },

    async delete(subscriptionId) {
      if (!isUuid(subscriptionId)) return false
      // Cursors go with it (ON DELETE CASCADE).
      const deleted = await db
        .delete(subscriptions)
        .where(eq(subscriptions.subscriptionId, subscriptionId))
        .returning({ id: subscriptions.subscriptionId })
      return deleted.length > 0
    },

    async setHealth(subscriptionId, health) {
      await db
        .update(subscriptions)
        .set({ failingSince: date(health.failing_since), lastError: health.last_error, disabledAt: date(health.disabled_at) })
        .where(eq(subscriptions.subscriptionId, subscriptionId))
    },

    async setSecret(subscriptionId, secret) {
      await db.update(subscriptions).set({ secret }).where(eq(subscriptions.subscriptionId, subscriptionId))
    },

    async cursor(subscriptionId, executionId) {
      const [row] = await db
        .select()
        .from(subscriptionCursors)
        .where(and(eq(subscriptionCursors.subscriptionId, subscriptionId), eq(subscriptionCursors.executionId, executionId)))
      return row && toCursor(row)
    },

    async putCursor(cursor) {
      const values = {
        deliveredSeq: cursor.delivered_seq,
        attempts: cursor.attempts,
        nextAttemptAt: date(cursor.next_attempt_at),
        lastError: cursor.last_error,
      }
      // INSERT … SELECT from the subscription: a cursor of a subscription deleted meanwhile is not written (no FK error).
      await db
        .insert(subscriptionCursors)
        .select(
          db
            .select({
              subscriptionId: subscriptions.subscriptionId,
              executionId: sql<string>`${cursor.execution_id}::uuid`.as('execution_id'),
              deliveredSeq: sql<number>`${cursor.delivered_seq}::int`.as('delivered_seq'),
              attempts: sql<number>`${cursor.attempts}::int`.as('attempts'),
              nextAttemptAt: sql<Date | null>`${cursor.next_attempt_at}::timestamptz`.as('next_attempt_at'),
              lastError: sql<string | null>`${cursor.last_error}::text`.as('last_error'),
            })
            .from(subscriptions)
            .where(eq(subscriptions.subscriptionId, cursor.subscription_id)),
        )
        .onConflictDoUpdate({ target: [subscriptionCursors.subscriptionId, subscriptionCursors.executionId], set: values })
    },

    async pending() {
      const rows = await db
        .select({
          subscriptionId: subscriptions.subscriptionId,
          executionId: executions.executionId,
          deliveredSeq: sql<number>`coalesce(${subscriptionCursors.deliveredSeq}, 0)`.mapWith(Number),
          attempts: sql<number>`coalesce(${subscriptionCursors.attempts}, 0)`.mapWith(Number),
          nextAttemptAt: subscriptionCursors.nextAttemptAt,
          lastError: subscriptionCursors.lastError,
          lastSeq: executions.lastSeq,
        })
        .from(subscriptions)
        .innerJoin(executions, or(isNull(subscriptions.workflowId), eq(executions.workflowId, subscriptions.workflowId)))
        .leftJoin(
          subscriptionCursors,
          and(
            eq(subscriptionCursors.subscriptionId, subscriptions.subscriptionId),
            eq(subscriptionCursors.executionId, executions.executionId),
          ),
        )
        .where(
          and(
            isNull(subscriptions.disabledAt),
            or(isNotNull(subscriptionCursors.subscriptionId), sql`${executions.createdAt} >= ${subscriptions.createdAt}`),
            gt(executions.lastSeq, sql`coalesce(${subscriptionCursors.deliveredSeq}, 0)`),
          ),
        )
      return rows.map((r) => ({
        subscription_id: r.subscriptionId,
        execution_id: r.executionId,
        delivered_seq: r.deliveredSeq,
        attempts: r.attempts,
        next_attempt_at: toIso(r.nextAttemptAt),
        last_error: r.lastError,
        last_seq: r.lastSeq,
      }))
    },
  }
}
