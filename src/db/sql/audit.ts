import { and, desc, eq, type SQL } from 'drizzle-orm'
import type { AuditRecord } from '../../model/audit.js'
import type { Database } from '../client.js'
import { auditLog } from '../schema/index.js'
import type { Store } from '../store.js'
import { paged } from './helpers.js'

function toRecord(row: typeof auditLog.$inferSelect): AuditRecord {
  return {
    audit_id: row.auditId,
    time: row.time.toISOString(),
    actor: row.actor,
    action: row.action,
    method: row.method,
    path: row.path,
    target_id: row.targetId,
    status: row.status,
  }
}

/** The audit trail: appended by the HTTP layer after each state-changing request; read newest first. */
export function auditQueries(db: Database): Store['audit'] {
  return {
    async insert(records) {
      if (records.length === 0) return
      await db.insert(auditLog).values(
        records.map((record) => ({
          auditId: record.audit_id,
          time: new Date(record.time),
          actor: record.actor,
          action: record.action,
          method: record.method,
          path: record.path,
          targetId: record.target_id,
          status: record.status,
        })),
      )
    },

    async list({ limit, offset, target_id, actor }) {
      const conditions: SQL[] = []
      if (target_id !== undefined) conditions.push(eq(auditLog.targetId, target_id))
      if (actor !== undefined) conditions.push(eq(auditLog.actor, actor))
      const query = db.select().from(auditLog).orderBy(desc(auditLog.time), desc(auditLog.auditId)).$dynamic()
      const { rows, total } = await paged(db, auditLog, query, and(...conditions), { limit, offset })
      return { items: rows.map(toRecord), total }
    },
  }
}
