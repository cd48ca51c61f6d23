import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/db/client.js'
import { rows } from '../support/db.js'

const root = await mkdtemp(join(tmpdir(), 'harmonia-pglite-open-'))
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})
const saved = process.env.HARMONIA_PGLITE_SHARED_BUFFERS
afterEach(() => {
  if (saved === undefined) delete process.env.HARMONIA_PGLITE_SHARED_BUFFERS
  else process.env.HARMONIA_PGLITE_SHARED_BUFFERS = saved
})

const setting = async (handle: Awaited<ReturnType<typeof openDatabase>>) =>
  rows<{ shared_buffers: string }>(await handle.db.execute(sql`SHOW shared_buffers`))[0]!.shared_buffers

describe('PGlite memory settings', () => {
  it('a new data folder is created and migrated by a child process, then opened here with 16MB of shared buffers', async () => {
    const dir = join(root, 'fresh')
    const handle = await openDatabase(dir)
    try {
      expect(await setting(handle)).toBe('16MB')
      // Migrated (by the child): the tables are there and the migration journal lists every migration.
      const applied = rows<{ n: number }>(await handle.db.execute(sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`))[0]!.n
      expect(applied).toBeGreaterThan(0)
      await handle.db.execute(sql`SELECT 1 FROM workflows LIMIT 1`)
    } finally {
      await handle.close()
    }
    // Opened again (no initdb this time), with the size the operator asks for.
    process.env.HARMONIA_PGLITE_SHARED_BUFFERS = '8MB'
    const again = await openDatabase(dir)
    try {
      expect(await setting(again)).toBe('8MB')
    } finally {
      await again.close()
    }
  })

  it('refuses a shared buffers setting that is not a size, naming the variable', async () => {
    process.env.HARMONIA_PGLITE_SHARED_BUFFERS = 'lots'
    await expect(openDatabase(join(root, 'refused'))).rejects.toThrow(/HARMONIA_PGLITE_SHARED_BUFFERS must be a size such as 16MB.*"lots"/)
  })

  it('an in-memory PGlite gets the same buffer size', async () => {
    const handle = await openDatabase('memory://')
    try {
      expect(await setting(handle)).toBe('16MB')
    } finally {
      await handle.close()
    }
  })
})
