import { PGlite } from '@electric-sql/pglite'
import { usePglite, type DatabaseHandle } from './client.js'

/**
 * Cheap in-memory databases for tests and embedding: one PGlite is created and migrated once per process, its data
 * folder dumped (uncompressed, ~40 MB held in memory), and every database after that is loaded from the dump.
 *
 * Measured here (Node 20, 2 cores): a fresh in-memory PGlite + migrations ≈ 1.8–2 s; `template.clone()` ≈ 0.6–1.2 s;
 * `PGlite.create({ loadDataDir: dump })` from a dump taken once ≈ 0.5–0.75 s. So the dump is kept, not the template.
 */
let dump: Promise<Blob> | undefined

function migratedDump(): Promise<Blob> {
  dump ??= (async () => {
    const client = await PGlite.create()
    const template = await usePglite(client, 'memory://template')
    try {
      return await client.dumpDataDir('none')
    } finally {
      await template.close()
    }
  })().catch((error: unknown) => {
    dump = undefined
    throw error
  })
  return dump
}

/** A fresh, migrated, in-memory PGlite database of its own (from the per-process template). */
export async function openMemoryDatabase(): Promise<DatabaseHandle> {
  const client = await PGlite.create({ loadDataDir: await migratedDump() })
  return usePglite(client, 'memory://', { migrate: false })
}
