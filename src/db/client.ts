import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { PGlite } from '@electric-sql/pglite'
import type { ExtractTablesWithRelations } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'
import { lockDataDir } from './data-dir-lock.js'
import { createFolderPglite, createMemoryPglite } from './pglite-open.js'
import { guardBegin } from './postgres-begin.js'
import { preferPrepared } from './postgres-prepare.js'
import * as schema from './schema/index.js'

/**
 * Opening the database (DESIGN.md "Storage"): PGlite in a data folder by default, postgres.js for `postgres://` URLs.
 * Both give the same drizzle `Database`; nothing above this file knows which driver runs.
 */

export type Schema = typeof schema

/** The drizzle database, whichever the driver: the stores are written against this type only. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>

/** A transaction of `Database`. */
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>

/** The database or a transaction: what a query runs on. */
export type DbExecutor = Database | Transaction

export type DatabaseKind = 'pglite' | 'postgres'

export type DatabaseHandle = {
  db: Database
  kind: DatabaseKind
  /** Where it is: the URL without its password, `memory://`, or the PGlite data folder. */
  location: string
  /** Closes the pool or the PGlite instance. Idempotent. */
  close(): Promise<void>
  /**
   * LISTEN on the driver's dedicated connection (Postgres only): `onListen` runs at each (re)connect. Resolves with the
   * function that stops listening.
   */
  listen?: (channel: string, onNotify: (payload: string) => void, onListen?: () => void) => Promise<() => Promise<void>>
}

export type OpenDatabaseOptions = {
  /** Apply the committed migrations at open (default true). */
  migrate?: boolean
  /** The migrations folder (default: the package's committed `drizzle/`). Tests point it at a partial copy. */
  migrationsFolder?: string
  /** postgres.js pool size (default 10). */
  max?: number
}

/** The committed migrations, resolved from this file (not the working directory): `<package root>/drizzle`. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url))

export const DEFAULT_DATA_DIR = './.harmonia'

/** Any key, the same for every Harmonia node: serialises migrations when several nodes start on one server. */
const MIGRATION_LOCK_KEY = 0x4861726d // "Harm"

/**
 * Opens the database named by `url`:
 * - `postgres://…` or `postgresql://…`: a postgres.js pool;
 * - `memory://`: an in-memory PGlite (gone on close);
 * - another `scheme:`: an error;
 * - anything else: a PGlite data folder at that path, created if missing; undefined means
 *   `HARMONIA_DATA_DIR`, else `./.harmonia`; one process at a time (data-dir-lock.ts: DataDirLockedError).
 * Then applies the committed migrations (idempotent).
 */
export async function openDatabase(url?: string, options: OpenDatabaseOptions = {}): Promise<DatabaseHandle> {
  const target = url ?? process.env.HARMONIA_DATA_DIR ?? DEFAULT_DATA_DIR
  if (/^postgres(ql)?:\/\//i.test(target)) return openPostgres(target, options)
  if (target === 'memory://') return usePglite(await createMemoryPglite(), 'memory://', options)
  // `mysql://…` or `memory:x` is a mistake, not a folder to create; only the scheme is named (a URL may hold a password).
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(target)?.[1]
  if (scheme !== undefined) {
    throw new Error(`unsupported database URL scheme "${scheme}:": use postgres://…, memory:// or a folder path`)
  }
  mkdirSync(target, { recursive: true })
  // Single-node: a second process on this folder is refused here, before PGlite touches its files.
  const lock = lockDataDir(target)
  try {
    const migrations = options.migrate === false ? null : (options.migrationsFolder ?? MIGRATIONS_FOLDER)
    const handle = await usePglite(await createFolderPglite(target, migrations), target, options)
    return { ...handle, close: once(() => handle.close().finally(() => lock.release())) }
  } catch (error) {
    lock.release()
    throw error
  }
}

/**
 * postgres.js's connection settings for an outage (API.md: 503 at once while the database is down, and back as soon
 * as it answers). Its defaults wait too long for both: a reconnect after a failed one is delayed by a backoff that
 * grows to 10–20 s (shared by the pool, so a few seconds of outage get every request a 20 s wait before its 503, and
 * the first query after the database is back as long), and a connect to a host that does not answer waits 30 s.
 */
const OUTAGE_SETTINGS = {
  /** Seconds before reconnecting after the `retries`-th failure in a row: 0.1, 0.2, 0.4, then 0.5 at most. */
  backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 0.5),
  /** Seconds: a connect that gets no answer (a host gone from the network) fails as unavailable after this. */
  connect_timeout: 10,
}

async function openPostgres(url: string, options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  // guardBegin: a transaction open when Postgres stops must not take the process down (postgres-begin.ts).
  // preferPrepared: one round trip per statement instead of two (postgres-prepare.ts).
  const prepare = { enabled: (process.env.HARMONIA_PG_PREPARE ?? 'on').toLowerCase() !== 'off' }
  const client = preferPrepared(guardBegin(postgres(url, { max: options.max ?? 10, onnotice: () => {}, ...OUTAGE_SETTINGS })), prepare)
  const driverDb = drizzlePostgres({ client, schema })
  const db: Database = driverDb
  const handle: DatabaseHandle = {
    db,
    kind: 'postgres' as const,
    location: redact(url),
    close: once(() => client.end({ timeout: 5 })),
    // postgres.js keeps one connection of its own for every LISTEN of this pool and listens again after a reconnect.
    async listen(channel, onNotify, onListen) {
      const listening = await client.listen(channel, onNotify, onListen)
      return () => listening.unlisten()
    },
  }
  try {
    if (options.migrate ?? true) {
      // A session-level advisory lock held by a connection of its own (not one of the pool's, which a pool of one
      // would need for the migration itself): nodes starting together migrate one at a time.
      const lock = postgres(url, { max: 1, onnotice: () => {} })
      try {
        await lock`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`
        await migratePostgres(driverDb, { migrationsFolder: options.migrationsFolder ?? MIGRATIONS_FOLDER })
      } finally {
        // Ending the session releases the lock.
        await lock.end({ timeout: 5 })
      }
    }
  } catch (error) {
    await handle.close()
    throw error
  }
  return handle
}

/**
 * Wraps a PGlite instance the caller created (a data folder, in-memory, or a clone of a migrated template) and
 * migrates it unless told not to. `close()` closes the instance.
 */
export async function usePglite(client: PGlite, location: string, options: OpenDatabaseOptions = {}): Promise<DatabaseHandle> {
  const driverDb = drizzlePglite({ client, schema })
  const db: Database = driverDb
  const handle = { db, kind: 'pglite' as const, location, close: once(() => client.close()) }
  try {
    if (options.migrate ?? true) {
      await migratePglite(driverDb, { migrationsFolder: options.migrationsFolder ?? MIGRATIONS_FOLDER })
    }
  } catch (error) {
    await handle.close()
    throw error
  }
  return handle
}

/** The URL without its password, for logs. */
function redact(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'postgres://…'
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined
  return () => (done ??= fn())
}
