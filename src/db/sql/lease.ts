import { sql } from 'drizzle-orm'

/**
 * When a claim made now stops holding an execution (DESIGN.md "The road ahead"): 30 seconds on.
 *
 * Unlike every other time the store writes, this one comes from the DATABASE clock, not the injected one, on
 * purpose: leases are compared by every node, so they must all be read against one clock (the server's), never
 * against each node's own (which may drift, or be a test's simulated clock).
 */
export const LEASE_EXPIRY = sql`now() + interval '30 seconds'`
