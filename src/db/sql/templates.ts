import { and, asc, eq, ilike, sql } from 'drizzle-orm'
import { isUuid } from '../../model/ids.js'
import type { Database } from '../client.js'
import { templates, templateVersions } from '../schema/index.js'
import type { Store } from '../store.js'
import { containing, paged } from './helpers.js'
import { templateRecord, templateRow } from './mappers.js'

/** Templates: written only by the facade's template calls; a row never changes once written. */
export function templateQueries(db: Database): Store['templates'] {
  return {
    async insert(record) {
      const row = templateRow(record)
      await db.transaction(async (tx) => {
        // The latest version is the template's row; every version (this one too) is in template_versions.
        await tx
          .insert(templates)
          .values(row)
          .onConflictDoUpdate({
            target: templates.templateId,
            set: { ...row, createdAt: sql`${templates.createdAt}` },
            setWhere: sql`${templates.version} < ${record.version}`,
          })
        await tx.insert(templateVersions).values({ ...row, workflowVersion: record.workflow_version })
      })
    },

    async get(templateId, version) {
      if (!isUuid(templateId)) return undefined
      if (version === undefined) {
        const [row] = await db.select().from(templates).where(eq(templates.templateId, templateId))
        return row && templateRecord(row)
      }
      const [row] = await db
        .select()
        .from(templateVersions)
        .where(and(eq(templateVersions.templateId, templateId), eq(templateVersions.version, version)))
      return row && templateRecord(row)
    },

    async delete(templateId) {
      if (!isUuid(templateId)) return false
      // Its versions go with it (on delete cascade).
      const deleted = await db.delete(templates).where(eq(templates.templateId, templateId)).returning({ id: templates.templateId })
      return deleted.length > 0
    },

    async list({ limit, offset, filter }) {
      const where = filter ? ilike(templates.name, containing(filter)) : undefined
      const query = db.select().from(templates).orderBy(asc(templates.createdAt), asc(templates.templateId)).$dynamic()
      const { rows, total } = await paged(db, templates, query, where, { limit, offset })
      return { items: rows.map(templateRecord), total }
    },
  }
}
