import { createMemoryStore } from '../../src/db/memory.store.js'
import { createSqlStore } from '../../src/db/sql.store.js'
import type { DatabaseHandle } from '../../src/db/client.js'
import type { Store } from '../../src/db/store.js'
import { drivers } from './db.js'

/**
 * A fresh store per test, on each kind: memory, PGlite and the Postgres server at DATABASE_URL (skipped without it).
 * The handle (SQL kinds) lets a test read the tables; closing the store disposes of the database.
 */
export type FreshStore = { store: Store; handle: DatabaseHandle | undefined }
export type StoreCase = { name: 'memory' | 'pglite' | 'postgres'; title: string; skip: boolean; open(): Promise<FreshStore> }

export const storeCases: StoreCase[] = [
  { name: 'memory', title: 'memory', skip: false, open: async () => ({ store: createMemoryStore(), handle: undefined }) },
  ...drivers.map((driver) => ({
    name: driver.name,
    title: driver.title,
    skip: driver.skip,
    async open(): Promise<FreshStore> {
      const handle = await driver.open()
      return { store: createSqlStore(handle), handle }
    },
  })),
]
