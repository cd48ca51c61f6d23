import type { Sql, TransactionSql } from 'postgres'

/**
 * Named prepared statements for drizzle's queries on postgres.js.
 *
 * drizzle (0.45, postgres-js driver) runs every query that is not `.prepare('name')`d with `unsafe(text, params,
 * { prepare: false })`. postgres.js then sends an unnamed statement with parameters as Parse + Describe, waits for the
 * parameter types, and only then sends Bind + Execute: two round trips, and a parse and plan on the server, for every
 * statement. Prepared, a statement seen before on a connection is one round trip with no parse. Measured on a 1-task
 * execution over HTTP (create, commit, audit row), and on the journal's commits, which are one fixed text each.
 *
 * Bounded: only the first `limit` distinct texts of a process are prepared (postgres.js keeps every statement it
 * prepared, per connection, for the connection's life); texts past it — a list whose length shows in the SQL — run
 * unnamed as before. `enabled: false` (HARMONIA_PG_PREPARE=off) is for a pooler that cannot keep prepared statements
 * (PgBouncer in transaction mode before 1.21).
 */
export function preferPrepared<T extends Sql>(client: T, options: { enabled: boolean; limit?: number }): T {
  if (!options.enabled) return client
  const limit = options.limit ?? 500
  const known = new Set<string>()
  const preparable = (text: string): boolean => {
    if (known.has(text)) return true
    if (known.size >= limit) return false
    known.add(text)
    return true
  }
  const wrap = (sql: Sql | TransactionSql): void => {
    const unsafe = sql.unsafe.bind(sql) as (text: string, params?: unknown[], options?: object) => unknown
    const prepared = (text: string, params?: unknown[], queryOptions?: object) =>
      // Without parameters postgres.js uses the simple protocol (one round trip already); leave those alone.
      params !== undefined && params.length > 0 && preparable(text)
        ? unsafe(text, params, { ...queryOptions, prepare: true })
        : unsafe(text, params, queryOptions)
    sql.unsafe = prepared as Sql['unsafe']
  }
  wrap(client)
  // drizzle's transactions run on the connection `begin` reserves: its `sql` gets the same wrapper.
  const begin = client.begin.bind(client) as (...args: unknown[]) => Promise<unknown>
  client.begin = ((...args: unknown[]) => {
    const body = args.pop() as (sql: TransactionSql) => unknown
    return begin(...args, (sql: TransactionSql) => {
      wrap(sql)
      return body(sql)
    })
  }) as Sql['begin']
  return client
}
