import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { preferPrepared } from '../../src/db/postgres-prepare.js'
import { drivers, type EmptyDatabase } from '../support/db.js'

/**
 * drizzle's queries as named prepared statements (src/db/postgres-prepare.ts), on the local Postgres: what the server
 * holds for the one connection of a pool of one (`pg_prepared_statements` is per session), with the right answers.
 */
const postgresDriver = drivers.find((d) => d.name === 'postgres')!

describe.skipIf(postgresDriver.skip)(`${postgresDriver.title}: prepared statements`, () => {
  let database: EmptyDatabase
  beforeAll(async () => {
    database = await postgresDriver.empty()
  })
  afterAll(async () => {
    await database?.dispose()
  })

  /** A pool of one connection with the wrapper, and what that session has prepared. */
  const session = (options: { enabled: boolean; limit?: number }) => {
    const client = preferPrepared(postgres(database.location, { max: 1, onnotice: () => {} }), options)
    const db = drizzle({ client })
    const prepared = async () =>
      (await client`select statement from pg_prepared_statements`.simple()).map((r) => String(r.statement)).filter((s) => s.includes('$1'))
    return { client, db, prepared }
  }

  it('prepares a parameterised query once and reuses it: same answers, one statement on the server', async () => {
    const { client, db, prepared } = session({ enabled: true })
    try {
      for (const n of [1, 2, 3]) expect(await db.execute(sql`select ${n}::int + 1 as next`)).toEqual([{ next: n + 1 }])
      expect(await prepared()).toEqual(['select $1::int + 1 as next'])
      // Inside a transaction too (drizzle runs it on the connection `begin` reserves).
      const inside = await db.transaction(async (tx) => tx.execute(sql`select ${'x'}::text || 'y' as joined`))
      expect(inside).toEqual([{ joined: 'xy' }])
      expect(await prepared()).toContain(`select $1::text || 'y' as joined`)
    } finally {
      await client.end()
    }
  })

  it('prepares no more than `limit` distinct texts; the rest still run, unnamed', async () => {
    const { client, db, prepared } = session({ enabled: true, limit: 2 })
    try {
      for (const column of ['a', 'b', 'c', 'd']) {
        expect(await db.execute(sql.raw(`select 1 as ${column}`).append(sql` where ${1}::int = 1`))).toEqual([{ [column]: 1 }])
      }
      expect((await prepared()).length).toBe(2)
    } finally {
      await client.end()
    }
  })

  it('HARMONIA_PG_PREPARE=off (enabled: false) leaves drizzle unnamed: nothing prepared', async () => {
    const { client, db, prepared } = session({ enabled: false })
    try {
      expect(await db.execute(sql`select ${5}::int as five`)).toEqual([{ five: 5 }])
      expect(await prepared()).toEqual([])
    } finally {
      await client.end()
    }
  })
})
