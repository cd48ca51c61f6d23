import { sql } from 'drizzle-orm'
import type { Database } from '../client.js'
import type { ClusterStore, HeldLease, NodeRecord } from '../store.js'
import { claimExecutions } from './claim.js'
import { rowsOf } from './helpers.js'
import { leaseExpiry, UNFINISHED } from './lease.js'
import { isoText } from './mappers.js'

/**
 * Leases and nodes (DESIGN.md "Several nodes on one Postgres"). Every statement reads time from the database, and each
 * change to an execution's lease is fenced by its epoch: a node that lost an execution can neither renew nor release it.
 */
export function leaseQueries(db: Database): Pick<ClusterStore, 'claim' | 'renew' | 'release' | 'owners' | 'heartbeat' | 'nodes'> {
  const recordset = (held: HeldLease[]) => sql`json_to_recordset(${JSON.stringify(held)}::text::json) AS v(execution_id uuid, epoch int)`
  return {
    claim: (request) => db.transaction((tx) => claimExecutions(tx, request)),

    async renew(owner, held, leaseSeconds) {
      if (held.length === 0) return []
      const rows = rowsOf<{ execution_id: string }>(
        await db.execute(sql`
          UPDATE executions AS e SET lease_expires_at = ${leaseExpiry(leaseSeconds)}
          FROM ${recordset(held)}
          WHERE e.execution_id = v.execution_id AND e.epoch = v.epoch AND e.owner = ${owner}
          RETURNING e.execution_id::text AS execution_id`),
      )
      return rows.map((r) => r.execution_id)
    },

    async release(held) {
      if (held.length === 0) return
      await db.execute(sql`
        UPDATE executions AS e SET owner = NULL, lease_expires_at = NULL
        FROM ${recordset(held)}
        WHERE e.execution_id = v.execution_id AND e.epoch = v.epoch`)
    },

    async owners() {
      const rows = rowsOf<{ owner: string }>(
        await db.execute(sql`SELECT DISTINCT owner FROM executions WHERE ${UNFINISHED} AND owner IS NOT NULL AND lease_expires_at > now()`),
      )
      return rows.map((r) => r.owner)
    },

    async heartbeat({ node_id, version, stopped = false }) {
      await db.execute(sql`
        INSERT INTO nodes (node_id, version, started_at, last_seen, stopped_at)
        VALUES (${node_id}, ${version}, now(), now(), CASE WHEN ${stopped} THEN now() END)
        ON CONFLICT (node_id) DO UPDATE SET last_seen = now(), version = excluded.version,
          stopped_at = excluded.stopped_at,
          -- A node id seen again after a stop is a new start.
          started_at = CASE WHEN nodes.stopped_at IS NULL THEN nodes.started_at ELSE now() END`)
    },

    async nodes(seconds) {
      const rows = rowsOf<{ node_id: string; started_at: string; last_seen: string; version: string; owned: number | string }>(
        await db.execute(sql`
          SELECT n.node_id, ${isoText(sql`n.started_at`)} AS started_at, ${isoText(sql`n.last_seen`)} AS last_seen, n.version,
            (SELECT count(*) FROM executions AS e
              WHERE e.owner = n.node_id AND e.status IN ('pending', 'running', 'paused') AND e.lease_expires_at > now()) AS owned
          FROM nodes AS n
          WHERE n.stopped_at IS NULL AND n.last_seen > now() - make_interval(secs => ${seconds})
          ORDER BY n.started_at, n.node_id`),
      )
      return rows.map((r): NodeRecord => ({
        node_id: r.node_id,
        started_at: r.started_at,
        last_seen: r.last_seen,
        executions_owned: Number(r.owned),
        version: r.version,
      }))
    },
  }
}
