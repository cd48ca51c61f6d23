// Creates a PGlite cluster in a data folder, applies the migrations, and exits: run as a child process by
// pglite-open.ts, so that the memory initdb and the first migration need (WebAssembly memory only grows: several
// hundred MiB, kept by the process that ran them) goes away with this process.
// Usage: node pglite-initdb.mjs <folder> <shared_buffers> <migrations folder, or '' for none>
import process from 'node:process'
import { PGlite } from '@electric-sql/pglite'
import { drizzle } from 'drizzle-orm/pglite'
import { migrate } from 'drizzle-orm/pglite/migrator'

const [folder, sharedBuffers, migrationsFolder] = process.argv.slice(2)
const client = await PGlite.create(folder, { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffers}`] })
try {
  if (migrationsFolder) await migrate(drizzle({ client }), { migrationsFolder })
} finally {
  await client.close()
}
