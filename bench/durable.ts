/**
 * Durable figures (`npm run bench` runs this after the in-process bench): on PGlite and on Postgres, in the same run,
 * - tasks/s of a 10,000-task fan-out and of 1,000 concurrent executions of 10 chained tasks;
 * - database round trips and payload bytes written per task (counted at the store port);
 * - the single-row insert rate of the same database from one connection (the floor a durable write costs);
 * - start-to-result latency of a 1-task execution, p50 and p99 over 200 runs.
 * It prints figures and never fails.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import { openDatabase, type DatabaseHandle } from '../src/db/client.js'
import { createSqlStore } from '../src/db/sql.store.js'
import type { CommitBatch, Store } from '../src/db/store.js'
import { createHarmonia } from '../src/index.js'
import { chain, elements, fanOut, quietLogger } from './shapes.js'

/** Counts what the engine asks of the store: commits, statements (round trips) and payload bytes. */
function counting(store: Store) {
  const stats = { commits: 0, roundTrips: 0, bytes: 0 }
  const wrapped: Store = {
    ...store,
    async commit(batch: CommitBatch) {
      stats.commits++
      // The SQL store writes a tick with one statement (src/db/sql.store.ts: commitStatement): one round trip.
      stats.roundTrips++
      stats.bytes += Buffer.byteLength(JSON.stringify(batch))
      return store.commit(batch)
    },
  }
  return { store: wrapped, stats }
}

async function floor(handle: DatabaseHandle, n: number): Promise<number> {
  await handle.db.execute(sql`create table if not exists bench_floor (id bigserial primary key, payload jsonb not null)`)
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await handle.db.execute(sql`insert into bench_floor (payload) values (${JSON.stringify({ i })}::jsonb)`)
  return (n / (performance.now() - t0)) * 1000
}

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000)
const fmt = (n: number) => n.toLocaleString('en')

async function measure(label: string, url: string): Promise<void> {
  const handle = await openDatabase(url)
  const { store, stats } = counting(createSqlStore(handle))
  const harmonia = await createHarmonia({ store, logger: quietLogger, recover: false, maxConcurrentTasks: 10_000 })
  try {
    const insertRate = await floor(handle, 2000)
    console.log(`${label}: single-row insert floor ${fmt(Math.round(insertRate))} rows/s (one connection, autocommit)`)

    // 10,000-task fan-out.
    const wide = await harmonia.createWorkflow({ name: 'fan', tasks: fanOut(10_000), max_concurrency: 100 })
    const before = { ...stats }
    let t0 = performance.now()
    const fan = await harmonia.startExecution({ workflow_id: wide.workflow_id })
    await harmonia.waitForExecution(fan.execution_id)
    const fanMs = performance.now() - t0
    const fanRate = rate(10_000, fanMs)
    const perTask = (k: 'roundTrips' | 'bytes') => ((stats[k] - before[k]) / 10_000).toFixed(k === 'bytes' ? 0 : 4)
    console.log(
      `${label}: fan-out of 10,000 (max_concurrency 100): ${fmt(fanRate)} durable task completions/s (${fanMs.toFixed(0)} ms); ` +
        `${perTask('roundTrips')} round trips and ${perTask('bytes')} payload bytes per task; ${stats.commits - before.commits} commits; ` +
        `×${(fanRate / insertRate).toFixed(2)} the single-row insert rate`,
    )

    // The same 10,000 calls as the elements of one for_each task.
    const each = await harmonia.createWorkflow({ name: 'each', tasks: elements(10_000, 100), max_concurrency: 100 })
    const beforeEach = { ...stats }
    t0 = performance.now()
    const eachRun = await harmonia.startExecution({ workflow_id: each.workflow_id })
    await harmonia.waitForExecution(eachRun.execution_id)
    const eachMs = performance.now() - t0
    const perElement = (k: 'roundTrips' | 'bytes') => ((stats[k] - beforeEach[k]) / 10_000).toFixed(k === 'bytes' ? 0 : 4)
    console.log(
      `${label}: for_each of 10,000 elements (concurrency 100): ${fmt(rate(10_000, eachMs))} durable element completions/s (${eachMs.toFixed(0)} ms); ` +
        `${perElement('roundTrips')} round trips and ${perElement('bytes')} payload bytes per element`,
    )

    // 1,000 concurrent executions of 10 chained tasks.
    const chained = await harmonia.createWorkflow({ name: 'chain', tasks: chain(10) })
    const beforeChains = { ...stats }
    t0 = performance.now()
    const runs = await Promise.all(Array.from({ length: 1000 }, () => harmonia.startExecution({ workflow_id: chained.workflow_id })))
    await Promise.all(runs.map((r) => harmonia.waitForExecution(r.execution_id)))
    const chainMs = performance.now() - t0
    const chainRate = rate(10_000, chainMs)
    const chainTrips = ((stats.roundTrips - beforeChains.roundTrips) / 10_000).toFixed(4)
    console.log(
      `${label}: 1,000 concurrent chains of 10: ${fmt(chainRate)} task completions/s (${chainMs.toFixed(0)} ms); ` +
        `${chainTrips} commit round trips per task; ×${(chainRate / insertRate).toFixed(2)} the insert floor`,
    )

    // Start-to-result latency of a 1-task execution.
    const one = await harmonia.createWorkflow({ name: 'one', tasks: [{ id: 'n', component: 'harmonia', action: 'noop' }] })
    const latencies: number[] = []
    for (let i = 0; i < 220; i++) {
      const s = performance.now()
      const r = await harmonia.startExecution({ workflow_id: one.workflow_id })
      const done = await harmonia.waitForExecution(r.execution_id)
      if (done.status !== 'completed') throw new Error('latency run did not complete')
      if (i >= 20) latencies.push(performance.now() - s) // the first 20 warm up
    }
    latencies.sort((a, b) => a - b)
    const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(2)
    console.log(`${label}: start → completed result of a 1-task execution: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms (200 runs)`)
  } finally {
    await harmonia.close()
  }
}

export async function durableBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'harmonia-bench-'))
  try {
    await measure('PGlite (data folder)', join(dir, 'data'))
  } catch (error) {
    console.log(`PGlite bench failed: ${String(error)}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const name = `harmonia_bench_${process.pid}`
  let admin: postgres.Sql | undefined
  try {
    admin = postgres(server, { max: 1, onnotice: () => {}, connect_timeout: 3 })
    await admin.unsafe(`CREATE DATABASE "${name}"`)
    const url = new URL(server)
    url.pathname = `/${name}`
    await measure('Postgres (localhost)', url.toString())
  } catch (error) {
    console.log(`Postgres bench skipped or failed (${server.replace(/:[^:@/]*@/, ':***@')}): ${String(error)}`)
  } finally {
    await admin?.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {})
    await admin?.end()
  }
}
