import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isUnreachable } from '../../src/db/availability.js'
import { guardBegin } from '../../src/db/postgres-begin.js'
import { until } from '../support/async.js'
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js'

/**
 * Transactions open when Postgres stops (src/db/postgres-begin.ts). Unguarded, postgres.js 3.4.9 rolls back on the dead
 * connection and throws out of the event loop (an uncaught TypeError that would fail this file); guarded, each
 * transaction rejects with an unreachable error and the pool works again once Postgres is back.
 */

let pg: PrivatePostgres
beforeAll(async () => {
  pg = await startPrivatePostgres()
}, 120_000)
afterAll(async () => {
  await pg?.dispose()
})

describe('guardBegin', () => {
  it('keeps the process up when Postgres stops under open transactions, and works again after', async () => {
    const sql = guardBegin(postgres(pg.url, { max: 8, backoff: () => 0.1, connect_timeout: 10, onnotice: () => {} }))
    try {
      let running = true
      const failures: unknown[] = []
      let committed = 0
      // Transactions back to back on every connection, so that some are open when the server goes.
      const loop = async () => {
        while (running) {
          await sql
            .begin(async (tx) => {
              await tx`select pg_sleep(0.05)`
              await tx`select 1`
            })
            .then(
              () => committed++,
              async (error: unknown) => {
                failures.push(error)
                await new Promise((resolve) => setTimeout(resolve, 20))
              },
            )
        }
      }
      const loops = Array.from({ length: 8 }, loop)
      const before = committed
      await until(() => committed >= before + 20, 'transactions committed', 60_000)
      await pg.stop()
      const whileDown = failures.length
      await until(() => failures.length >= whileDown + 20, 'transactions refused while Postgres is down', 60_000)
      await pg.start()
      const back = committed
      await until(() => committed >= back + 20, 'transactions committed again', 60_000)
      running = false
      await Promise.all(loops)

      expect(failures.length).toBeGreaterThan(0)
      expect(failures.filter((error) => !isUnreachable(error))).toEqual([])
      expect(await sql.begin(async (tx) => tx`select 42 as answer`)).toEqual([{ answer: 42 }])
    } finally {
      await sql.end({ timeout: 5 })
    }
  }, 120_000)

  it('still rolls back a transaction that fails for any other reason', async () => {
    const sql = guardBegin(postgres(pg.url, { max: 2, onnotice: () => {} }))
    try {
      await sql`create table if not exists guarded (n int primary key)`
      const failed = await sql
        .begin(async (tx) => {
          await tx`insert into guarded values (1)`
          await tx`insert into guarded values (1)`
        })
        .catch((error: unknown) => error)
      expect(failed).toMatchObject({ code: '23505' })
      expect(await sql`select count(*)::int as n from guarded`).toEqual([{ n: 0 }])
    } finally {
      await sql.end({ timeout: 5 })
    }
  }, 60_000)
})
