import { and, asc, desc, eq, ilike, sql, type SQL } from 'drizzle-orm'
import { isUuid } from '../../model/ids.js'
import type { Database, DbExecutor } from '../client.js'
import { workflows, workflowVersions } from '../schema/index.js'
import type { Store, WorkflowRecord } from '../store.js'
import { containing, paged } from './helpers.js'
import { workflowRecord } from './mappers.js'

/**
 * Workflows and their versions. Written only by the facade's workflow calls (never by the runtime): a version row is
 * immutable once written; `workflows` holds the name and the latest version number.
 */
export function workflowQueries(db: Database): Store['workflows'] {
  return {
    async insert(record) {
      await db.transaction(async (tx) => {
        const at = new Date(record.updatedAt)
        await tx
          .insert(workflows)
          .values({
            workflowId: record.workflowId,
            name: record.definition.name,
            latestVersion: record.version,
            createdAt: new Date(record.createdAt),
            updatedAt: at,
          })
          .onConflictDoUpdate({
            target: workflows.workflowId,
            set: { name: sql`excluded.name`, latestVersion: sql`excluded.latest_version`, updatedAt: sql`excluded.updated_at` },
            // An older version written late never hides the newer one.
            setWhere: sql`${workflows.latestVersion} < excluded.latest_version`,
          })
        await tx
          .insert(workflowVersions)
          .values({ workflowId: record.workflowId, version: record.version, definition: record.definition, createdAt: at })
      })
    },

    async latest(workflowId) {
      if (!isUuid(workflowId)) return undefined
      return selectWorkflow(db, workflowId, sql`${workflows.latestVersion}`)
    },

    async version(workflowId, version) {
      if (!isUuid(workflowId)) return undefined
      return selectWorkflow(db, workflowId, sql`${version}::int`)
    },

    async versions(workflowId, { limit, offset }) {
      if (!isUuid(workflowId)) return { items: [], total: 0 }
      const where = eq(workflowVersions.workflowId, workflowId)
      const query = db
        .select({ version: workflowVersions.version, createdAt: workflowVersions.createdAt })
        .from(workflowVersions)
        .orderBy(desc(workflowVersions.version))
        .$dynamic()
      const { rows, total } = await paged(db, workflowVersions, query, where, { limit, offset })
      return { items: rows.map((r) => ({ version: r.version, created_at: r.createdAt.toISOString() })), total }
    },

    async list({ limit, offset, filter }) {
      const where = filter ? ilike(workflows.name, containing(filter)) : undefined
      const query = db
        .select({ workflow: workflows, definition: workflowVersions.definition, versionAt: workflowVersions.createdAt })
        .from(workflows)
        .innerJoin(
          workflowVersions,
          and(eq(workflowVersions.workflowId, workflows.workflowId), eq(workflowVersions.version, workflows.latestVersion)),
        )
        .orderBy(asc(workflows.createdAt), asc(workflows.workflowId))
        .$dynamic()
      const { rows, total } = await paged(db, workflows, query, where, { limit, offset })
      return {
        items: rows.map((r) =>
          workflowRecord(r.workflow.workflowId, r.workflow.latestVersion, r.definition, r.workflow.createdAt, r.versionAt),
        ),
        total,
      }
    },

    async delete(workflowId) {
      if (!isUuid(workflowId)) return false
      // Its versions go with it (on delete cascade).
      const deleted = await db.delete(workflows).where(eq(workflows.workflowId, workflowId)).returning({ id: workflows.workflowId })
      return deleted.length > 0
    },
  }
}

/** One version of a workflow, `version` being an SQL expression (a number, or the latest version column). */
async function selectWorkflow(db: DbExecutor, workflowId: string, version: SQL): Promise<WorkflowRecord | undefined> {
  const [row] = await db
    .select({
      createdAt: workflows.createdAt,
      version: workflowVersions.version,
      definition: workflowVersions.definition,
      versionAt: workflowVersions.createdAt,
    })
    .from(workflows)
    .innerJoin(workflowVersions, eq(workflowVersions.workflowId, workflows.workflowId))
    .where(and(eq(workflows.workflowId, workflowId), sql`${workflowVersions.version} = ${version}`))
  return row && workflowRecord(workflowId, row.version, row.definition, row.createdAt, row.versionAt)
}
