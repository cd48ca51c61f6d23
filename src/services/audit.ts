import type { AuditQuery, AuditRecord } from '../model/audit.js'
import { uuidv7 } from '../model/ids.js'
import { pageRequest, toPage } from '../model/paging.js'
import type { Page } from '../model/resources.js'
import { iso, type ServiceContext } from './context.js'

export type AuditEntry = Omit<AuditRecord, 'audit_id' | 'time'>

/**
 * The audit trail: every state-changing request, written in batches (the entries of one tick share one insert, so
 * auditing costs one round trip per tick, not one per request) and logged at info. The HTTP layer records an entry
 * after answering and does not wait for it; reading the trail here first waits for the entries still being written,
 * so a client that changed something and then reads the trail of this node sees its entry.
 */
export function createAuditService(ctx: ServiceContext) {
  let queue: Array<{ record: AuditRecord; done: (error?: Error) => void }> = []
  /** The next insert, gathering entries until the tick ends; null once it started. */
  let scheduled: Promise<void> | null = null
  /** Inserts scheduled or in flight. */
  const writing = new Set<Promise<void>>()

  async function written(): Promise<void> {
    while (writing.size > 0) await Promise.all(writing)
  }

  async function flush(): Promise<void> {
    scheduled = null
    const batch = queue
    queue = []
    try {
      await ctx.store.audit.insert(batch.map((b) => b.record))
      for (const b of batch) b.done()
    } catch (error) {
      const failure = error instanceof Error ? error : new Error('the audit trail could not be written', { cause: error })
      for (const b of batch) b.done(failure)
    }
  }

  return {
    /** Records one request; resolves once it is stored (rejects when the store refuses it). */
    recordAudit(entry: AuditEntry): Promise<void> {
      const record: AuditRecord = { audit_id: uuidv7(), time: iso(ctx.now()), ...entry }
      ctx.logger.info('audit', { ...record })
      return new Promise<void>((resolve, reject) => {
        queue.push({ record, done: (error) => (error === undefined ? resolve() : reject(error)) })
        if (scheduled) return
        const insert = new Promise<void>((resolve) => setImmediate(resolve)).then(flush)
        scheduled = insert
        writing.add(insert)
        void insert.finally(() => writing.delete(insert))
      })
    },

    /** Resolves once every entry recorded so far is written (or refused). */
    auditWritten: written,

    /** The trail, newest first; `target_id` and `actor` filter exactly. */
    async listAudit(query: AuditQuery = {}): Promise<Page<AuditRecord>> {
      const request = pageRequest(query)
      await written()
      const filters = { ...(query.target_id ? { target_id: query.target_id } : {}), ...(query.actor ? { actor: query.actor } : {}) }
      return toPage(await ctx.store.audit.list({ ...request, ...filters }), request, (r) => r)
    },
  }
}
export type AuditApi = ReturnType<typeof createAuditService>
