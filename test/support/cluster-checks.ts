import postgres from 'postgres'
import { request } from './processes.js'

/**
 * What the cluster failover suites check once every execution has finished, and the rows they read directly while
 * nodes come and go (the owner column is the truth about who holds what; GET /api/nodes is only a view of it).
 */

export type WireEvent = { seq: number; type: string; task_id?: string; data: { index?: number } }

/** A postgres.js client on the cluster's database (close it with `.end()`). */
export const openDatabase = (location: string) => postgres(location, { max: 2, onnotice: () => {} })
export type Database = ReturnType<typeof openDatabase>

/** How many unfinished executions `owner` holds in the database right now. */
export async function unfinishedOwnedBy(sql: Database, owner: string): Promise<number> {
  const [row] = await sql`SELECT count(*)::int AS n FROM executions
    WHERE owner = ${owner} AND status IN ('pending', 'running', 'paused')`
  return row!.n as number
}

/** The ids among `ids` that are not finished yet. */
export async function unfinished(sql: Database, ids: string[]): Promise<string[]> {
  const rows = await sql`SELECT execution_id FROM executions
    WHERE execution_id = ANY(${ids}::uuid[]) AND status IN ('pending', 'running', 'paused')`
  return rows.map((r) => r.execution_id as string)
}

/** The execution's event log, through the API (GET /api/executions/{id}/history). */
export async function eventsOf(url: string, id: string): Promise<WireEvent[]> {
  const history = await request(`${url}/api/executions/${id}/history`)
  if (history.status !== 200) throw new Error(`history of ${id}: ${history.status} ${history.text}`)
  return history.body.events as WireEvent[]
}

/** Problems with one execution's log: seq not exactly 1..n, or a task (or element) not completed exactly once. */
export function logProblems(events: WireEvent[], expected: string[]): string[] {
  const problems: string[] = []
  events.forEach((event, i) => {
    if (event.seq !== i + 1) problems.push(`event ${i} has seq ${event.seq}`)
  })
  const completions = new Map<string, number>()
  for (const event of events) {
    if (event.type !== 'task_completed') continue
    const key = event.data.index === undefined ? event.task_id! : `${event.task_id}[${event.data.index}]`
    completions.set(key, (completions.get(key) ?? 0) + 1)
  }
  for (const key of expected) {
    const n = completions.get(key) ?? 0
    if (n !== 1) problems.push(`${key} completed ${n} times`)
  }
  for (const key of completions.keys()) if (!expected.includes(key)) problems.push(`unexpected completion of ${key}`)
  return problems
}

/** Runs `work` over `items`, `width` at a time (hundreds of requests without opening hundreds of sockets). */
export async function inBatches<T, R>(items: T[], width: number, work: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = []
  for (let i = 0; i < items.length; i += width) {
    out.push(...(await Promise.all(items.slice(i, i + width).map((item, j) => work(item, i + j)))))
  }
  return out
}
