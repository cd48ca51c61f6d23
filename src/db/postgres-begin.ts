import type { Sql, TransactionSql } from 'postgres'
import { isUnreachable } from './availability.js'

/**
 * A guard around postgres.js's `begin` (3.4.9) for a connection that dies inside a transaction, as every open one
 * does when Postgres stops.
 *
 * postgres.js answers a failed transaction body with a `rollback` on the transaction's connection. When the body
 * failed because that connection is gone, its socket is already null, and the rollback's write, deferred with
 * setImmediate, throws a TypeError ("Cannot read properties of null (reading 'write')") out of the event loop: an
 * uncaught exception that ends the process (upstream porsager/postgres#1154, #1208; unreleased fixes #1168, #1209).
 * The rollback is pointless then (the server rolled back when the session ended), so the guarded body does not fail
 * on a lost connection: it never settles, and `begin` rejects on its own when the pool reports the connection closed
 * (`connection.onclose`, which begin races against the body). A body that fails for any other reason fails as before
 * (rolled back by postgres.js).
 *
 * Should the connection-level error come without the connection closing (never seen), the caller is not left waiting:
 * the transaction rejects with that error after `LOST_GRACE_MS`. The body stays unsettled: a late rollback could land
 * on the connection after it has been reconnected and handed to another transaction.
 */

const LOST_GRACE_MS = 15_000

type Begin = Sql['begin']

/** Wraps `client.begin` in place (drizzle's transactions call it); returns the client. */
export function guardBegin<T extends Sql>(client: T): T {
  const begin = client.begin.bind(client) as (...args: unknown[]) => Promise<unknown>
  const guarded = (...args: unknown[]): Promise<unknown> => {
    const body = args.pop() as (sql: TransactionSql) => unknown
    let lost: ((error: unknown) => void) | undefined
    const gaveUp = new Promise<never>((_, reject) => (lost = reject))
    const transaction = begin(...args, async (sql: TransactionSql) => {
      try {
        return await body(sql)
      } catch (error) {
        if (!isUnreachable(error)) throw error
        // No rollback on a dead connection (see above): begin rejects once the pool sees it closed.
        const timer = setTimeout(() => lost?.(error), LOST_GRACE_MS)
        timer.unref()
        return new Promise<never>(() => {})
      }
    })
    // The fallback rejection is only ever observed through the race; keep it from counting as unhandled.
    gaveUp.catch(() => {})
    return Promise.race([transaction, gaveUp])
  }
  client.begin = guarded as Begin
  return client
}
