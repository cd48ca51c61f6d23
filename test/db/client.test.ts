import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/db/client.js'
import { openMemoryDatabase } from '../../src/db/pglite-template.js'
import { drivers, rows } from '../support/db.js'

const root = await mkdtemp(join(tmpdir(), 'harmonia-client-'))
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

const migrated = async (db: Awaited<ReturnType<typeof openDatabase>>['db']) =>
  rows<{ n: number }>(await db.execute(sql`SELECT count(*)::int AS n FROM workflows`))[0]!.n === 0

describe('openDatabase', () => {
  it('memory:// is an in-memory PGlite, migrated', async () => {
    const handle = await openDatabase('memory://')
    try {
      expect(handle).toMatchObject({ kind: 'pglite', location: 'memory://' })
      expect(await migrated(handle.db)).toBe(true)
    } finally {
      await handle.close()
      await handle.close() // idempotent
    }
  })

  it('refuses another URL scheme instead of making a folder of it, naming the scheme and never the password', async () => {
    for (const [url, scheme] of [
      ['mysql://harmonia:hunter2@127.0.0.1/db', 'mysql:'],
      ['memory:mcp', 'memory:'],
      ['sqlite:data.db', 'sqlite:'],
    ] as const) {
      const error = await openDatabase(url).then(
        () => undefined,
        (e: unknown) => e as Error,
      )
      expect(error?.message).toBe(`unsupported database URL scheme "${scheme}": use postgres://…, memory:// or a folder path`)
      expect(existsSync(url)).toBe(false)
    }
  })

  it('a path is a PGlite data folder, created if missing; without a URL, HARMONIA_DATA_DIR', async () => {
    const dir = join(root, 'nested', 'data')
    const previous = process.env.HARMONIA_DATA_DIR
    process.env.HARMONIA_DATA_DIR = dir
    try {
      const handle = await openDatabase()
      try {
        expect(handle).toMatchObject({ kind: 'pglite', location: dir })
        expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true)
        expect(await migrated(handle.db)).toBe(true)
      } finally {
        await handle.close()
      }
    } finally {
      if (previous === undefined) delete process.env.HARMONIA_DATA_DIR
      else process.env.HARMONIA_DATA_DIR = previous
    }
  })

  it('a PGlite from the migrated template opens in well under a fresh one', async () => {
    await openMemoryDatabase().then((h) => h.close()) // the template, once per process
    const t0 = performance.now()
    const handle = await openMemoryDatabase()
    const ms = performance.now() - t0
    try {
      expect(await migrated(handle.db)).toBe(true)
      console.log(`PGlite from the template: ${ms.toFixed(0)} ms`)
    } finally {
      await handle.close()
    }
  })

  const postgresDriver = drivers.find((d) => d.name === 'postgres')!
  it.skipIf(postgresDriver.skip)(
    `postgres:// is a postgres.js pool, migrated${postgresDriver.skip ? ' (skipped: requires DATABASE_URL)' : ''}`,
    async () => {
      const database = await postgresDriver.empty()
      try {
        const url = new URL(database.location)
        url.password = 'secret'
        const handle = await openDatabase(url.toString().replace(/^postgres:/, 'postgresql:'))
        try {
          expect(handle.kind).toBe('postgres')
          expect(handle.location).not.toContain('secret')
          expect(await migrated(handle.db)).toBe(true)
        } finally {
          await handle.close()
          await handle.close()
        }
      } finally {
        await database.dispose()
      }
    },
  )
})
