import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { PGlite } from '@electric-sql/pglite'

const INITDB = fileURLToPath(new URL('./pglite-initdb.mjs', import.meta.url))

/**
 * PGlite's shared buffers: `HARMONIA_PGLITE_SHARED_BUFFERS` (a Postgres size such as `16MB`), default 16MB instead of
 * Postgres' 128MB. The embedded database keeps them inside its WebAssembly memory, so they are resident for the whole
 * life of the process; the operating system's file cache still holds the data files, so a smaller pool costs a read
 * call on a miss, not a disk access.
 */
function sharedBuffers(): string {
  const value = process.env.HARMONIA_PGLITE_SHARED_BUFFERS ?? '16MB'
  if (!/^\d+(kB|MB|GB)$/.test(value)) {
    throw new Error(`HARMONIA_PGLITE_SHARED_BUFFERS must be a size such as 16MB (kB, MB or GB), got "${value}"`)
  }
  return value
}

const startParams = (size = sharedBuffers()) => [...PGlite.defaultStartParams, '-c', `shared_buffers=${size}`]

/** An in-memory PGlite (gone on close). */
export function createMemoryPglite(): Promise<PGlite> {
  return PGlite.create({ startParams: startParams() })
}

/**
 * PGlite on a data folder. A folder without a cluster gets one, migrated with `migrationsFolder` (null: not), from a child process
 * (pglite-initdb.mjs): WebAssembly memory only grows, and the process that runs initdb and the first migration keeps
 * what they needed (measured: 775 MiB resident after an in-process initdb, 385 MiB when that instance is closed and
 * the folder reopened, 280 MiB for a folder that already had its cluster).
 */
export async function createFolderPglite(folder: string, migrationsFolder: string | null): Promise<PGlite> {
  const size = sharedBuffers()
  if (!existsSync(join(folder, 'PG_VERSION'))) {
    await promisify(execFile)(process.execPath, [INITDB, folder, size, migrationsFolder ?? ''], { timeout: 120_000 }).catch(
      (error: unknown) => {
        const stderr = (error as { stderr?: string }).stderr?.trim()
        throw new Error(`cannot create the PGlite database in ${folder}: ${stderr || String(error)}`)
      },
    )
  }
  return PGlite.create(folder, { startParams: startParams(size) })
}
