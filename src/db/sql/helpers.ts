import { count, type SQL } from 'drizzle-orm'
import type { PgSelect, PgTable } from 'drizzle-orm/pg-core'
import type { DbExecutor } from '../client.js'

/** Small helpers of the SQL store: pages, patterns, raw results, driver error codes, and grouping rows in JS. */

/**
 * One page of a list: `query` (a `$dynamic()` select with its order) narrowed to `where` and the page, and how many
 * rows `where` matches in `table` (the `total` of API.md lists).
 */
export async function paged<T extends PgSelect>(
  db: DbExecutor,
  table: PgTable,
  query: T,
  where: SQL | undefined,
  page: { limit: number; offset: number },
): Promise<{ rows: Awaited<T>; total: number }> {
  const [total] = await db.select({ n: count() }).from(table).where(where)
  return { rows: await query.where(where).limit(page.limit).offset(page.offset), total: total?.n ?? 0 }
}

/** An ILIKE pattern matching `text` anywhere, with its own `%`, `_` and `\` taken literally. */
export function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

/** Rows of a raw `execute`: postgres.js returns an array, PGlite `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  return Array.isArray(result) ? (result as T[]) : (result as { rows: T[] }).rows
}

/** The SQLSTATE of a driver error (drizzle may wrap it in `cause`). */
export function sqlState(error: unknown): string | undefined {
  for (let e: unknown = error; e !== null && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
  }
  return undefined
}

/** The last item for each key, in the order keys first appeared. */
export function lastBy<T>(list: readonly T[], key: (item: T) => string): Map<string, T> {
  const out = new Map<string, T>()
  for (const item of list) out.set(key(item), item)
  return out
}

/** Pairs grouped by key, in the order keys first appeared. */
export function groupBy<K, V>(pairs: ReadonlyArray<readonly [K, V]>): Map<K, V[]> {
  const out = new Map<K, V[]>()
  for (const [k, v] of pairs) {
    const list = out.get(k)
    if (list) list.push(v)
    else out.set(k, [v])
  }
  return out
}
