import { sql, type SQL } from 'drizzle-orm'

/**
 * When a lease taken now stops holding an execution: `seconds` from the database's now (null seconds: no lease).
 *
 * Unlike every other time the store writes, this one comes from the DATABASE clock, not the injected one, on
 * purpose: leases are compared by every node, so they must all be read against one clock (the server's), never
 * against each node's own (which may drift, or be a test's simulated clock).
 */
export const leaseExpiry = (seconds: SQL | number): SQL => sql`now() + make_interval(secs => ${seconds})`

/** The statuses of an execution someone must run (the partial indexes of schema/executions.ts use the same list). */
export const UNFINISHED = sql`status IN ('pending', 'running', 'paused')`
