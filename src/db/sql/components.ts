import { asc, eq, sql } from 'drizzle-orm'
import type { RemoteComponentRecord } from '../../model/components.js'
import type { Database } from '../client.js'
import { components } from '../schema/index.js'
import type { Store } from '../store.js'

type ComponentRow = typeof components.$inferSelect

function toRecord(row: ComponentRow): RemoteComponentRecord {
  return {
    name: row.name,
    url: row.url,
    actions: row.actions ?? null,
    secret: row.secret,
    timeout: row.timeout,
    description: row.description,
    metadata: row.metadata,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  }
}

/** Remote components registered through the API: written by the facade's component calls, read at start and on change. */
export function componentQueries(db: Database): Store['components'] {
  return {
    async list() {
      return (await db.select().from(components).orderBy(asc(components.name))).map(toRecord)
    },

    async get(name) {
      const [row] = await db.select().from(components).where(eq(components.name, name))
      return row && toRecord(row)
    },

    async put(record) {
      const row = {
        name: record.name,
        url: record.url,
        actions: record.actions,
        secret: record.secret,
        timeout: record.timeout,
        description: record.description,
        metadata: record.metadata,
        createdAt: new Date(record.created_at),
        updatedAt: new Date(record.updated_at),
      }
      const { name: _, createdAt: _c, ...changed } = row
      await db
        .insert(components)
        .values(row)
        .onConflictDoUpdate({ target: components.name, set: { ...changed, createdAt: sql`${components.createdAt}` } })
    },

    async delete(name) {
      const deleted = await db.delete(components).where(eq(components.name, name)).returning({ name: components.name })
      return deleted.length > 0
    },
  }
}
