import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import { afterAll, beforeAll, describe } from 'vitest'
import { openDatabase, type DatabaseHandle, type DbExecutor, type OpenDatabaseOptions } from '../../src/db/client.js'
import { openMemoryDatabase } from '../../src/db/pglite-template.js'

/**
 * Databases for tests, on both drivers.
 * - pglite: an in-memory instance loaded from a template migrated once per worker (src/db/pglite-template.ts).
 * - postgres: a database of its own, `harmonia_test_<random>`, created on the server at DATABASE_URL and dropped
 *   when closed. Without DATABASE_URL the postgres suites are skipped, and their name says so.
 */

const DATABASE_URL = process.env.DATABASE_URL

/** A database that starts empty (no migrations) and can be opened, closed and reopened. */
export type EmptyDatabase = {
  /** Where it is: a PGlite data folder, or a postgres URL. */
  location: string
  open(options?: OpenDatabaseOptions): Promise<DatabaseHandle>
  dispose(): Promise<void>
}

export type TestDriver = {
  name: 'pglite' | 'postgres'
  /** The name a suite is reported under: says why when skipped. */
  title: string
  skip: boolean
  /** A fresh, migrated database of its own; closing the handle disposes of it. */
  open(): Promise<DatabaseHandle>
  /** A fresh empty database (migrations not applied). */
  empty(): Promise<EmptyDatabase>
}

export const drivers: TestDriver[] = [
  {
    name: 'pglite',
    title: 'pglite',
    skip: false,
    open: openMemoryDatabase,
    async empty() {
      const dir = await mkdtemp(join(tmpdir(), 'harmonia-test-'))
      return { location: dir, open: (options) => openDatabase(dir, options), dispose: () => rm(dir, { recursive: true, force: true }) }
    },
  },
  {
    name: 'postgres',
    title: DATABASE_URL ? 'postgres' : 'postgres (skipped: requires DATABASE_URL)',
    skip: !DATABASE_URL,
    async open() {
      const database = await createPostgresDatabase()
      try {
        const handle = await database.open()
        return {
          ...handle,
          async close() {
            await handle.close()
            await database.dispose()
          },
        }
      } catch (error) {
        await database.dispose()
        throw error
      }
    },
    empty: createPostgresDatabase,
  },
]

/**
 * Runs `body` once per driver, each in its own describe block (`<driver>: <title>`) with a fresh migrated database
 * for the block: `db()` returns it. A skipped driver's block is reported as skipped, by name.
 */
export function describeEachDriver(title: string, body: (context: { driver: TestDriver; db: () => DatabaseHandle }) => void): void {
  for (const driver of drivers) {
    describe.skipIf(driver.skip)(`${driver.title}: ${title}`, () => {
      let handle: DatabaseHandle | undefined
      beforeAll(async () => {
        handle = await driver.open()
      })
      afterAll(async () => {
        await handle?.close()
      })
      body({
        driver,
        db: () => {
          if (!handle) throw new Error('the database is not open yet: call db() inside a test or hook')
          return handle
        },
      })
    })
  }
}

/** Empties every table (between tests that count rows). */
export async function truncateAll(db: DbExecutor): Promise<void> {
  await db.execute(
    sql`TRUNCATE workflows, workflow_versions, templates, executions, task_executions, execution_events, checkpoints, execution_state, timers, execution_signals, task_items, components, audit_log, template_versions, schedule_ticks, subscription_cursors, subscriptions, execution_commands, nodes`,
  )
}

/** Rows of a raw `execute`, whichever the driver. */
export function rows<T = Record<string, unknown>>(result: unknown): T[] {
  return Array.isArray(result) ? (result as T[]) : (result as { rows: T[] }).rows
}

/** `select count(*)` of a table, optionally of one execution's rows. */
export async function countRows(db: DbExecutor, table: string, executionId?: string): Promise<number> {
  const where = executionId === undefined ? sql`` : sql` WHERE execution_id = ${executionId}::uuid`
  const [row] = rows<{ n: number | string }>(await db.execute(sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)}${where}`))
  return Number(row?.n ?? 0)
}

/** A new empty database on the server at DATABASE_URL, created from a maintenance connection to `postgres`. */
async function createPostgresDatabase(): Promise<EmptyDatabase> {
  if (!DATABASE_URL) throw new Error('DATABASE_URL is not set')
  const name = `harmonia_test_${randomBytes(6).toString('hex')}`
  const maintenance = new URL(DATABASE_URL)
  maintenance.pathname = '/postgres'
  const admin = postgres(maintenance.toString(), { max: 1, onnotice: () => {} })
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`)
  } catch (error) {
    await admin.end()
    throw error
  }
  const url = new URL(DATABASE_URL)
  url.pathname = `/${name}`
  return {
    location: url.toString(),
    open: (options) => openDatabase(url.toString(), { max: 4, ...options }),
    async dispose() {
      try {
        await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await admin.end()
      }
    },
  }
}

/**
 * Every row of every table (all schemas but the system ones, the migrations journal included), each row as JSON text,
 * by `schema.table`: what a dump of the database would hold.
 */
export async function dumpTables(db: DbExecutor): Promise<Record<string, string[]>> {
  const tables = rows<{ schema: string; name: string }>(
    await db.execute(
      sql`SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
          WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
    ),
  )
  const dump: Record<string, string[]> = {}
  for (const { schema, name } of tables) {
    const table = sql`${sql.identifier(schema)}.${sql.identifier(name)}`
    dump[`${schema}.${name}`] = rows<{ row: string }>(await db.execute(sql`SELECT row_to_json(t)::text AS row FROM ${table} t`)).map(
      (r) => r.row,
    )
  }
  return dump
}
