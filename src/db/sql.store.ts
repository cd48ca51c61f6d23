import { withAvailability } from './availability.js'
import type { DatabaseHandle } from './client.js'
import { auditQueries } from './sql/audit.js'
import { checkpointQueries } from './sql/checkpoints.js'
import { componentQueries } from './sql/components.js'
import { commitStatement } from './sql/commit.js'
import { eventQueries } from './sql/events.js'
import { executionQueries } from './sql/executions.js'
import { signalQueries, stateQueries } from './sql/state.js'
import { scheduleQueries } from './sql/schedules.js'
import { taskItemQueries } from './sql/task-items.js'
import { subscriptionQueries } from './sql/subscriptions.js'
import { templateQueries } from './sql/templates.js'
import { workflowQueries } from './sql/workflows.js'
import type { ClusterStore, CommitBatch, Store } from './store.js'
import { sql } from 'drizzle-orm'
import { commandQueries } from './sql/commands.js'
import { feedQueries } from './sql/feed.js'
import { leaseQueries } from './sql/leases.js'

/**
 * The Store port over drizzle, on PGlite or postgres.js alike (one code path: `Database` is the common type).
 * Assembly only: the queries live in `sql/`, one file per resource, with the fenced commit (`sql/commit.ts`) and the
 * recovery claim (`sql/claim.ts`) apart; see ARCHITECTURE.md. Every method answers UnavailableError while the database
 * cannot be reached (availability.ts).
 */
export function createSqlStore(database: DatabaseHandle): Store {
  const { db } = database
  return withAvailability({
    kind: database.kind,
    location: database.location,
    workflows: workflowQueries(db),
    templates: templateQueries(db),
    executions: executionQueries(db),
    events: eventQueries(db),
    state: stateQueries(db),
    signals: signalQueries(db),
    taskItems: taskItemQueries(db),
    checkpoints: checkpointQueries(db),
    components: componentQueries(db),
    audit: auditQueries(db),
    schedules: scheduleQueries(db),
    subscriptions: subscriptionQueries(db),
    ...(database.kind === 'postgres' ? { cluster: clusterStore(database) } : {}),
    async commit(batch) {
      if (!isEmpty(batch)) await commitStatement(db, batch)
    },
    close: () => database.close(),
  })
}

/** Postgres: what several nodes sharing the database need (leases, claims, commands, the event feed, NOTIFY). */
function clusterStore(database: DatabaseHandle): ClusterStore {
  const { db } = database
  return {
    ...leaseQueries(db),
    ...feedQueries(db),
    commands: commandQueries(db),
    async notify(channel, payload) {
      await db.execute(sql`SELECT pg_notify(${channel}, ${payload})`)
    },
    listen: (channel, onNotify, onListen) => {
      if (!database.listen) throw new Error('this database cannot LISTEN')
      return database.listen(channel, onNotify, onListen)
    },
  }
}

function isEmpty(batch: CommitBatch): boolean {
  return (
    batch.creates.length +
      batch.executions.length +
      batch.tasks.length +
      batch.events.length +
      batch.timersSet.length +
      batch.timersCleared.length +
      batch.states.length +
      (batch.signals?.length ?? 0) +
      (batch.items?.length ?? 0) +
      (batch.itemCounts?.length ?? 0) ===
    0
  )
}
