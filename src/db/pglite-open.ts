import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { PGlite } from '@electric-sql/pglite'

const INITDB = fileURLToPath(new URL('./pglite-initdb.mjs', import.meta.url))

/** PGlite's version (its package.json is not exported: read next to its entry point, `<package>/dist/…`). */
const PGLITE_VERSION = (() => {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite')
  const root = entry.slice(0, entry.lastIndexOf(`${sep}dist${sep}`))
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version
})()

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
 * A new cluster, already migrated, to copy into new data folders: `<tmpdir>/harmonia-pglite-<key>`, keyed by the
 * PGlite version and the migrations, made once per machine by a child process (pglite-initdb.mjs).
 *
 * Why: initdb is the slow part of a first start (8–9 s of CPU for a process whose WebAssembly code is still cold),
 * and WebAssembly memory only grows, so the process that runs initdb and the first migration keeps what they needed
 * (measured: 775 MiB resident after an in-process initdb, 385 MiB when that instance is closed and the folder
 * reopened, 280 MiB for a folder that already had its cluster). A copied cluster opens like an existing one.
 * The template is made under a name of its own and renamed into place, so a reader never sees half of one.
 */
async function clusterTemplate(migrationsFolder: string | null): Promise<string> {
  const key = createHash('sha256').update(PGLITE_VERSION)
  for (const file of migrationsFolder ? readdirSync(migrationsFolder, { recursive: true, withFileTypes: true }) : []) {
    if (!file.isFile()) continue
    const path = join(file.parentPath, file.name)
    key.update(path.slice(migrationsFolder!.length)).update(readFileSync(path))
  }
  const template = join(tmpdir(), `harmonia-pglite-${key.digest('hex').slice(0, 16)}`)
  if (existsSync(join(template, 'PG_VERSION'))) return template
  const building = `${template}.${randomBytes(6).toString('hex')}`
  try {
    await promisify(execFile)(process.execPath, [INITDB, building, sharedBuffers(), migrationsFolder ?? ''], { timeout: 180_000 })
    // Another process may have made it meanwhile: theirs stays.
    if (!existsSync(template)) renameSync(building, template)
  } catch (error) {
    if (!existsSync(join(template, 'PG_VERSION'))) {
      const stderr = (error as { stderr?: string }).stderr?.trim()
      throw new Error(`cannot create a PGlite database: ${stderr || String(error)}`)
    }
  } finally {
    rmSync(building, { recursive: true, force: true })
  }
  return template
}

/**
 * PGlite on a data folder. A folder without a cluster gets a copy of the template cluster, migrated with
 * `migrationsFolder` (null: not migrated); see `clusterTemplate`.
 */
export async function createFolderPglite(folder: string, migrationsFolder: string | null): Promise<PGlite> {
  const size = sharedBuffers()
  if (!existsSync(join(folder, 'PG_VERSION'))) {
    const template = await clusterTemplate(migrationsFolder)
    // PG_VERSION last: a copy cut short (the process killed) leaves a folder that the next start copies into again.
    const version = join(template, 'PG_VERSION')
    cpSync(template, folder, { recursive: true, filter: (source) => source !== version })
    cpSync(version, join(folder, 'PG_VERSION'))
  }
  return PGlite.create(folder, { startParams: startParams(size) })
}
