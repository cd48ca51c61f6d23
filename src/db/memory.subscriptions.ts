import type { ExecutionStatus } from '../model/status.js'
import { isTerminalExecutionStatus } from '../model/status.js'
import type { PendingCursor, SubscriptionCursor, SubscriptionRecord } from '../model/subscriptions.js'
import type { Store } from './store.js'

/** What the subscriptions part of the memory store reads of its executions. */
export type ExecutionDigest = { execution_id: string; workflow_id: string; status: ExecutionStatus; last_seq: number; created_at: string }

const copy = <T>(value: T): T => structuredClone(value)
const key = (subscriptionId: string, executionId: string) => `${subscriptionId}\u0000${executionId}`

/** The in-memory `Store['subscriptions']`, over the memory store's executions (read through `executions`). */
export function createMemorySubscriptions(executions: () => ExecutionDigest[]): Store['subscriptions'] {
  const subscriptions = new Map<string, SubscriptionRecord>()
  const cursors = new Map<string, SubscriptionCursor>()
  const ordered = () =>
    [...subscriptions.values()].sort(
      (a, b) => a.created_at.localeCompare(b.created_at) || a.subscription_id.localeCompare(b.subscription_id),
    )
  const matches = (s: SubscriptionRecord, e: ExecutionDigest) => s.workflow_id === null || s.workflow_id === e.workflow_id

  return {
    async create(record) {
      subscriptions.set(record.subscription_id, copy(record))
      for (const e of executions()) {
        if (!matches(record, e) || isTerminalExecutionStatus(e.status)) continue
        const cursor = { subscription_id: record.subscription_id, execution_id: e.execution_id, delivered_seq: e.last_seq }
        cursors.set(key(record.subscription_id, e.execution_id), { ...cursor, attempts: 0, next_attempt_at: null, last_error: null })
      }
    },
    async get(subscriptionId) {
      const found = subscriptions.get(subscriptionId)
      return found && copy(found)
    },
    async list({ limit, offset }) {
      const all = ordered()
      return { items: all.slice(offset, offset + limit).map(copy), total: all.length }
    },
    async all() {
      return ordered().map(copy)
    },
    async delete(subscriptionId) {
      for (const [k, c] of cursors) if (c.subscription_id === subscriptionId) cursors.delete(k)
      return subscriptions.delete(subscriptionId)
    },
    async setHealth(subscriptionId, health) {
      const found = subscriptions.get(subscriptionId)
      if (found) Object.assign(found, copy(health))
    },
    async setSecret(subscriptionId, secret) {
      const found = subscriptions.get(subscriptionId)
      if (found) found.secret = secret
    },
    async cursor(subscriptionId, executionId) {
      const found = cursors.get(key(subscriptionId, executionId))
      return found && copy(found)
    },
    async putCursor(cursor) {
      if (subscriptions.has(cursor.subscription_id)) cursors.set(key(cursor.subscription_id, cursor.execution_id), copy(cursor))
    },
    async pending() {
      const out: PendingCursor[] = []
      const all = executions()
      for (const s of ordered()) {
        if (s.disabled_at !== null) continue
        for (const e of all) {
          if (!matches(s, e)) continue
          const found = cursors.get(key(s.subscription_id, e.execution_id))
          if (!found && e.created_at < s.created_at) continue
          const cursor = found ?? {
            subscription_id: s.subscription_id,
            execution_id: e.execution_id,
            delivered_seq: 0,
            attempts: 0,
            next_attempt_at: null,
            last_error: null,
          }
          if (e.last_seq > cursor.delivered_seq) out.push({ ...copy(cursor), last_seq: e.last_seq })
        }
      }
      return out
    },
  }
}
