import { asc, eq, ilike } from 'drizzle-orm'
import { isUuid } from '../../model/ids.js'
import type { Database } from '../client.js'
import { templates } from '../schema/index.js'
import type { Store } from '../store.js'
import { containing, paged } from './helpers.js'
import { templateRecord, templateRow } from './mappers.js'

/** Templates: written only by the facade's template calls; a row never changes once written. */
export function templateQueries(db: Database): Store['templates'] {
  return {
    async insert(record) {
      await db.insert(templates).values(templateRow(record))
    },

    async get(templateId) {
      if (!isUuid(templateId)) return undefined
      const [row] = await db.select().from(templates).where(eq(templates.templateId, templateId))
      return row && templateRecord(row)
    },

    async list({ limit, offset, filter }) {
      const where = filter ? ilike(templates.name, containing(filter)) : undefined
      const query = db.select().from(templates).orderBy(asc(templates.createdAt), asc(templates.templateId)).$dynamic()
      const { rows, total } = await paged(db, templates, query, where, { limit, offset })
      return { items: rows.map(templateRecord), total }
    },
  }
}
