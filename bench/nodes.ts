/**
 * Multi-node figures (API.md "Several nodes"; `npm run bench -- nodes` runs this alone): for N = 1, 2, 3 real server
 * processes on one fresh Postgres database each (dropped after), with `harmonia.noop` tasks:
 * (a) a 10,000-element for_each started on node 1: element completions/s, POST to the terminal status;
 * (b) 1,000 executions of a 10-task chain POSTed 50 at a time, round-robin over the nodes: tasks/s, first POST to last
 *     execution finished (polled on node 1's list, cheap);
 * (c) start → result across nodes: POST a 1-task execution on node 1, wait for workflow_completed on an SSE stream
 *     opened on node N; p50/p99 of 200 sequential samples (after 20 warm-ups), and the POST's own p50;
 * (d) server CPU µs per task for (a) and (b), user + system time summed over every node process, and how busy the
 *     whole machine was during (b) (2 cores shared by the nodes, Postgres and this load generator);
 * (e) server CPU µs per task at a FIXED load per node: 30 chain executions/s POSTed to each node for 10 s. Under (b)
 *     N nodes split one load, so each commits smaller batches and the machine is oversubscribed; here every node
 *     carries the same load whatever N, so a per-task cost that grows with N would be cross-node overhead (hints,
 *     claims, leases), not batching;
 * (f) memory: each node's RSS once started (idle) and its peak over the run (VmHWM), the largest node's;
 * (g) one node only: 100,000 elements at once (ten executions of the 10k for_each started together): elements/s and
 *     the node's peak RSS after it.
 * Each measurement has a deadline (BENCH_NODES_TIMEOUT seconds, default 90) and shows "timeout" past it; BENCH_NODES
 * picks the node counts (default 1,2,3,pglite: `pglite` is one node on the embedded PGlite, in a fresh data folder,
 * as `npm start` runs without DATABASE_URL). The load generator (this process) shares the machine with the nodes and
 * Postgres. Prints, never fails.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import postgres from 'postgres'
import { busyPercent, createDatabase, cpuSeconds, machineTicks, startNode, stopNode, type Node } from './cluster.js'
import { chain, elements } from './shapes.js'
import { json, pause, terminalEvent, Timeout, withDeadline } from './wire.js'

const ELEMENTS = 10_000
const CHAINS = 1_000
const CHAIN_LENGTH = 10
const IN_FLIGHT = 50
const SAMPLES = 200
const WARM_UP = 20
/** (e): chain executions per second POSTed to each node, and for how long. */
const PER_NODE_RATE = 30
const FIXED_SECONDS = 10
const deadlineMs = () => Number(process.env.BENCH_NODES_TIMEOUT ?? 90) * 1000

type Row = {
  /** The node count, or `PGlite` for one node on the embedded database. */
  nodes: string
  fan: string
  chains: string
  fanCpu: string
  chainCpu: string
  busy: string
  fixedCpu: string
  p50: string
  p99: string
  postP50: string
  idleRss: string
  peakRss: string
  hundredK: string
  hundredKRss: string
  chainRate?: number
}
type ExecutionList = { items: { execution_id: string; status: string }[]; total: number }
const EMPTY: Row = {
  nodes: '',
  fan: '-',
  chains: '-',
  fanCpu: '-',
  chainCpu: '-',
  busy: '-',
  fixedCpu: '-',
  p50: '-',
  p99: '-',
  postP50: '-',
  idleRss: '-',
  peakRss: '-',
  hundredK: '-',
  hundredKRss: '-',
}
const notes: string[] = []
const label = (n: number) => (n === 0 ? 'PGlite' : `${n} node(s)`)
const fmt = (n: number) => Math.round(n).toLocaleString('en')
const perTask = (cpu: number, tasks: number) => (Number.isNaN(cpu) ? 'n/a' : fmt((cpu * 1e6) / tasks))

/** The status an execution ended with: its terminal SSE event on `node`, or (should the stream miss it) a 1 s poll. */
async function finished(node: string, workflowId: string, executionId: string, signal: AbortSignal): Promise<string> {
  const poll = async () => {
    for (;;) {
      await pause(1000, signal)
      const list = await json<ExecutionList>(`${node}/api/executions?workflow_id=${workflowId}&limit=1`, undefined, signal)
      const status = list.items[0]?.status
      if (status === 'completed' || status === 'failed' || status === 'canceled') return status
    }
  }
  const stream = terminalEvent(node, executionId, signal).then((type) => type.replace('workflow_', ''))
  return Promise.any([stream, poll()]).catch(() => {
    throw signal.aborted ? new Timeout('aborted') : new Error('neither the stream nor the poll saw the execution end')
  })
}

/** (a) + its CPU: one for_each of 10,000 noop elements on node 1 (or `executions` of them started together: (g)). */
async function fanOut(nodes: Node[], signal: AbortSignal, executions = 1): Promise<{ rate: number; cpu: number }> {
  const first = nodes[0]!.url
  const tasks = elements(ELEMENTS, 100)
  const wf = await json(`${first}/api/workflows`, { name: 'bench-fan-out', tasks, max_concurrency: 100 }, signal)
  const cpu0 = cpuSeconds(nodes)
  const t0 = performance.now()
  const started = await Promise.all(
    Array.from({ length: executions }, () => json(`${first}/api/executions`, { workflow_id: wf.workflow_id }, signal)),
  )
  const statuses = await Promise.all(started.map((ex) => finished(first, wf.workflow_id, ex.execution_id, signal)))
  const ms = performance.now() - t0
  const failed = statuses.find((status) => status !== 'completed')
  if (failed) throw new Error(`a fan-out ended ${failed}`)
  return { rate: ((ELEMENTS * executions) / ms) * 1000, cpu: cpuSeconds(nodes) - cpu0 }
}

/** (b) + its CPU: 1,000 chains of 10, POSTed round-robin over the nodes with 50 requests in flight. */
async function chains(nodes: Node[], signal: AbortSignal): Promise<{ rate: number; cpu: number; failed: number; busy: number }> {
  const first = nodes[0]!.url
  const wf = await json(`${first}/api/workflows`, { name: 'bench-chain', tasks: chain(CHAIN_LENGTH) }, signal)
  const count = async (status: string) =>
    (await json<ExecutionList>(`${first}/api/executions?workflow_id=${wf.workflow_id}&status=${status}&limit=1`, undefined, signal)).total
  const cpu0 = cpuSeconds(nodes)
  const machine0 = machineTicks()
  const t0 = performance.now()
  let next = 0
  let refused = 0
  const worker = async () => {
    while (next < CHAINS) {
      const node = nodes[next++ % nodes.length]!.url // as a round-robin load balancer would
      await json(`${node}/api/executions`, { workflow_id: wf.workflow_id }, signal).catch((error: unknown) => {
        if (signal.aborted) throw error
        refused++
      })
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  if (refused > 0) notes.push(`${nodes.length} node(s), chains: ${refused} of ${CHAINS} POSTs refused`)
  let failed = 0
  for (let i = 0; ; i++) {
    const completed = await count('completed')
    if (i % 10 === 0 || completed + failed >= CHAINS - refused) failed = (await count('failed')) + (await count('canceled'))
    if (completed + failed >= CHAINS - refused) {
      const ms = performance.now() - t0
      return {
        rate: ((completed * CHAIN_LENGTH) / ms) * 1000,
        cpu: cpuSeconds(nodes) - cpu0,
        failed,
        busy: busyPercent(machine0, machineTicks()),
      }
    }
    await pause(100, signal)
  }
}

/** (e): PER_NODE_RATE chain executions/s to every node for FIXED_SECONDS; node CPU per task once all have finished. */
async function fixedLoad(nodes: Node[], signal: AbortSignal): Promise<{ cpu: number; tasks: number }> {
  const first = nodes[0]!.url
  const wf = await json(`${first}/api/workflows`, { name: 'bench-chain-fixed', tasks: chain(CHAIN_LENGTH) }, signal)
  const total = PER_NODE_RATE * FIXED_SECONDS * nodes.length
  const cpu0 = cpuSeconds(nodes)
  const t0 = performance.now()
  const posts: Promise<unknown>[] = []
  for (let i = 0; i < total; i++) {
    // Paced, not in flight: the i-th POST is due at i / (rate × N) seconds, round-robin over the nodes.
    const wait = t0 + (i * 1000) / (PER_NODE_RATE * nodes.length) - performance.now()
    if (wait > 0) await pause(wait, signal)
    posts.push(json(`${nodes[i % nodes.length]!.url}/api/executions`, { workflow_id: wf.workflow_id }, signal))
  }
  await Promise.all(posts)
  for (;;) {
    const list = await json<ExecutionList>(
      `${first}/api/executions?workflow_id=${wf.workflow_id}&status=completed&limit=1`,
      undefined,
      signal,
    )
    if (list.total >= total) return { cpu: cpuSeconds(nodes) - cpu0, tasks: total * CHAIN_LENGTH }
    await pause(100, signal)
  }
}

/** (c): POST on node 1, terminal event on the last node's SSE stream; each sample gets 10 s at most. */
async function latency(nodes: Node[], signal: AbortSignal): Promise<{ p50: number; p99: number; postP50: number }> {
  const first = nodes[0]!.url
  const last = nodes[nodes.length - 1]!.url
  const tasks = [{ id: 'n', component: 'harmonia', action: 'noop' }]
  const wf = await json(`${first}/api/workflows`, { name: 'bench-one', tasks }, signal)
  const samples: number[] = []
  const posts: number[] = []
  for (let i = 0; i < WARM_UP + SAMPLES; i++) {
    const t0 = performance.now()
    const ex = await json(`${first}/api/executions`, { workflow_id: wf.workflow_id }, signal)
    if (i >= WARM_UP) posts.push(performance.now() - t0)
    const type = await withDeadline(10_000, (own) => terminalEvent(last, ex.execution_id, AbortSignal.any([own, signal]))).catch(
      (error: unknown) => {
        throw error instanceof Timeout ? new Timeout(`sample ${i + 1} saw no terminal event on ${nodes.at(-1)!.id} within 10 s`) : error
      },
    )
    if (type !== 'workflow_completed') throw new Error(`sample ${i + 1} ended ${type}`)
    if (i >= WARM_UP) samples.push(performance.now() - t0)
  }
  const q = (values: number[], p: number) => values.sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))]!
  return { p50: q(samples, 0.5), p99: q(samples, 0.99), postP50: q(posts, 0.5) }
}

/** A node's resident memory in MiB from /proc/<pid>/status: `VmRSS` now, or `VmHWM` (its peak so far). */
function rssMiB(node: Node, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${node.process.pid}/status`, 'utf8')
    const kib = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
    return kib / 1024
  } catch {
    return NaN
  }
}
const largest = (nodes: Node[], field: 'VmRSS' | 'VmHWM') => {
  const mib = Math.max(...nodes.map((node) => rssMiB(node, field)))
  return Number.isNaN(mib) ? 'n/a' : fmt(mib)
}

/**
 * The figures only count if every task and element completed once: a node that took over another's execution could
 * run work twice. Counts (execution, task, element) with more than one task_completed event and notes them.
 */
async function duplicates(url: string, n: number): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 3 })
  try {
    const [row] = await sql`
      select count(*)::int as keys, coalesce(sum(c - 1), 0)::int as extra from (
        select count(*) as c from execution_events where type = 'task_completed'
        group by execution_id, task_id, data->>'index' having count(*) > 1) d`
    if (row && row.extra > 0) notes.push(`${label(n)}: ${row.extra} duplicate task_completed events (${row.keys} tasks/elements)`)
  } catch (error) {
    notes.push(`${label(n)}: duplicate check failed (${String(error)})`)
  } finally {
    await sql.end()
  }
}

/** Runs one measurement under the deadline: its result, or "timeout"/"failed" with a note saying why. */
async function attempt<T>(what: string, n: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T | string> {
  try {
    return await withDeadline(deadlineMs(), fn)
  } catch (error) {
    const timedOut = error instanceof Timeout
    notes.push(`${label(n)}, ${what}: ${timedOut ? 'timeout' : 'failed'} (${error instanceof Error ? error.message : String(error)})`)
    return timedOut ? 'timeout' : 'failed'
  }
}

/** A fresh database for `n` nodes: a Postgres database on `server`, or (n = 0) a PGlite data folder. */
async function freshDatabase(server: string, n: number): Promise<{ url: string; drop(): Promise<void> }> {
  if (n > 0) return createDatabase(server, `n${n}`)
  const dir = mkdtempSync(join(tmpdir(), 'harmonia-nodes-bench-'))
  return { url: join(dir, 'data'), drop: async () => rmSync(dir, { recursive: true, force: true }) }
}

/** One row: `n` server processes on one Postgres database, or (n = 0) one on PGlite. */
async function run(server: string, n: number): Promise<Row> {
  const row: Row = { ...EMPTY, nodes: n === 0 ? 'PGlite' : String(n) }
  const db = await freshDatabase(server, n)
  const nodes: Node[] = []
  try {
    // One after the other: node 1 migrates the fresh database before the others open it.
    for (let i = 1; i <= Math.max(1, n); i++) nodes.push(await startNode(db.url, `bench-${i}`))
    await new Promise((resolve) => setTimeout(resolve, 1000))
    row.idleRss = largest(nodes, 'VmRSS')
    const fan = await attempt('fan-out', n, (signal) => fanOut(nodes, signal))
    if (typeof fan === 'string') row.fan = row.fanCpu = fan
    else [row.fan, row.fanCpu] = [fmt(fan.rate), perTask(fan.cpu, ELEMENTS)]
    const ch = await attempt('chains', n, (signal) => chains(nodes, signal))
    if (typeof ch === 'string') row.chains = row.chainCpu = ch
    else {
      ;[row.chains, row.chainCpu, row.chainRate] = [fmt(ch.rate), perTask(ch.cpu, CHAINS * CHAIN_LENGTH), ch.rate]
      row.busy = Number.isNaN(ch.busy) ? 'n/a' : ch.busy.toFixed(0)
      if (ch.failed > 0) row.chains += ` (${ch.failed} not completed)`
    }
    const fixed = await attempt('fixed load', n, (signal) => fixedLoad(nodes, signal))
    row.fixedCpu = typeof fixed === 'string' ? fixed : perTask(fixed.cpu, fixed.tasks)
    const lat = await attempt('latency', n, (signal) => latency(nodes, signal))
    if (typeof lat === 'string') row.p50 = row.p99 = row.postP50 = lat
    else [row.p50, row.p99, row.postP50] = [lat.p50.toFixed(1), lat.p99.toFixed(1), lat.postP50.toFixed(1)]
    row.peakRss = largest(nodes, 'VmHWM')
    if (n === 1) {
      const hundred = await attempt('100k elements', n, (signal) => fanOut(nodes, signal, 10))
      row.hundredK = typeof hundred === 'string' ? hundred : fmt(hundred.rate)
      row.hundredKRss = largest(nodes, 'VmHWM')
    }
    if (n > 0) await duplicates(db.url, n)
    for (const node of nodes)
      if (node.process.exitCode !== null || node.process.signalCode !== null)
        notes.push(`${label(n)}: ${node.id} exited during the run:\n${node.output().slice(-1500)}`)
  } catch (error) {
    notes.push(`${label(n)}: ${error instanceof Error ? error.message : String(error)}`)
  } finally {
    await Promise.all(nodes.map((node) => stopNode(node)))
    await db.drop()
  }
  return row
}

function table(head: string[], cells: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join(' | ')
  console.log(line(head))
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'))
  for (const c of cells) console.log(line(c))
}

function tables(rows: Row[]): void {
  const head = [
    'nodes',
    'fan-out tasks/s',
    'chains tasks/s',
    'CPU µs/task fan-out',
    'CPU µs/task chains',
    'machine busy % chains',
    `CPU µs/task ${PER_NODE_RATE}/s per node`,
    'p50 ms',
    'p99 ms',
  ]
  table(
    head,
    rows.map((r) => [r.nodes, r.fan, r.chains, r.fanCpu, r.chainCpu, r.busy, r.fixedCpu, r.p50, r.p99]),
  )
  table(
    ['nodes', 'POST p50 ms', 'idle RSS MiB (largest node)', 'peak RSS MiB (largest node)', '100k elements/s', 'peak RSS MiB after 100k'],
    rows.map((r) => [r.nodes, r.postP50, r.idleRss, r.peakRss, r.hundredK, r.hundredKRss]),
  )
}

export async function nodesBench(): Promise<void> {
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const shown = server.replace(/:[^:@/]*@/, ':***@')
  const probe = postgres(server, { max: 1, onnotice: () => {}, connect_timeout: 3 })
  try {
    await probe`select 1`
  } catch (error) {
    console.log(`multi-node bench skipped: Postgres unreachable at ${shown} (${String(error)})`)
    return
  } finally {
    await probe.end()
  }
  // 0 stands for the PGlite row.
  const counts = (process.env.BENCH_NODES ?? '1,2,3,pglite')
    .split(',')
    .map((n) => (n.trim().toLowerCase() === 'pglite' ? 0 : Number(n)))
    .filter((n) => Number.isInteger(n) && n >= 0)
  console.log(
    `multi-node bench (real server processes on one Postgres, ${shown}; noop tasks; deadline ${deadlineMs() / 1000} s per measurement)`,
  )
  const rows: Row[] = []
  for (const n of counts) {
    const t0 = performance.now()
    rows.push(
      await run(server, n).catch((error: unknown) => {
        notes.push(`${label(n)}: ${String(error)}`)
        return { ...EMPTY, nodes: n === 0 ? 'PGlite' : String(n), fan: 'failed', chains: 'failed' }
      }),
    )
    console.log(`  ${label(n)} done in ${((performance.now() - t0) / 1000).toFixed(0)} s`)
  }
  tables(rows)
  const one = rows.find((r) => r.nodes === '1')?.chainRate
  const two = rows.find((r) => r.nodes === '2')?.chainRate
  const lite = rows.find((r) => r.nodes === 'PGlite')?.chainRate
  if (one && lite) console.log(`chains tasks/s, PGlite / Postgres (1 node): ×${(lite / one).toFixed(2)}`)
  console.log(`chains tasks/s, 2 nodes / 1 node: ${one && two ? `×${(two / one).toFixed(2)}` : 'n/a'}`)
  for (const note of notes.splice(0)) console.log(`note: ${note}`)
}
