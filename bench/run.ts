/**
 * `npm run bench`: prints figures, never fails. In-process engine throughput on noop tasks, against the CPU floor of a
 * plain Promise DAG runner, with peak RSS; in-process start → result latency; 100,000 tasks at once (ten 10k fan-outs); the XState floor per task (floor.ts). Set BENCH_CONCURRENCY to change max_concurrency (default 10, the
 * workflow default). Then remote components (remote.ts), durable figures (durable.ts), HTTP figures (http.ts) and
 * multi-node figures (nodes.ts). Name scenarios to run only those: `npm run bench -- nodes` (engine, remote, durable,
 * http, nodes).
 */
import { performance } from 'node:perf_hooks'
import { xstateFloor } from './floor.js'
import { best, chain, elements, engineLatency, engineRun, fanOut, plainRun, type Shape } from './shapes.js'

const SCENARIOS = ['engine', 'remote', 'durable', 'http', 'nodes']
const selected = process.argv.slice(2)
for (const name of selected) if (!SCENARIOS.includes(name)) console.log(`unknown scenario ${name} (known: ${SCENARIOS.join(', ')})`)
const wants = (name: string) => selected.length === 0 || selected.includes(name)

const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 10)
let peakRss = process.memoryUsage().rss
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20)

async function plain(shape: Shape, limit: number): Promise<number> {
  const t0 = performance.now()
  await plainRun(shape, limit)
  return performance.now() - t0
}

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000)
const row = (label: string, n: number, engineMs: number, plainMs: number) =>
  console.log(
    `${label.padEnd(34)} engine ${rate(n, engineMs).toLocaleString('en').padStart(8)} tasks/s (${engineMs.toFixed(0)} ms)   plain ${rate(n, plainMs).toLocaleString('en').padStart(10)} tasks/s   engine/plain time ×${(engineMs / plainMs).toFixed(0)}`,
  )

if (wants('engine')) {
  console.log(`Harmonia in-process bench (noop tasks, max_concurrency ${concurrency}, node ${process.version})`)
  const c10k = await best(2, () => engineRun(chain(10_000), concurrency))
  row('chain of 10,000', 10_000, c10k, await best(2, () => plain(chain(10_000), concurrency)))
  const f10k = await best(2, () => engineRun(fanOut(10_000), concurrency))
  row('fan-out of 10,000', 10_000, f10k, await best(2, () => plain(fanOut(10_000), concurrency)))
  const f1k = await best(3, () => engineRun(fanOut(1_000), concurrency))
  row('fan-out of 1,000', 1_000, f1k, await best(3, () => plain(fanOut(1_000), concurrency)))
  console.log(`fan-out time ratio 10k/1k: ${(f10k / f1k).toFixed(1)} (linear is 10)`)
  const wide = concurrency === 100 ? 10 : 100
  const w10k = await best(1, () => engineRun(fanOut(10_000), wide))
  console.log(`fan-out of 10,000 at max_concurrency ${wide}: ${rate(10_000, w10k).toLocaleString('en')} tasks/s`)
  console.log(`peak RSS: ${(peakRss / 1024 / 1024).toFixed(0)} MiB`)
  // The same 10,000 calls as elements of one for_each task (API.md "Fan-out"), with the peak RSS of this run alone.
  peakRss = process.memoryUsage().rss
  const e10k = await best(2, () => engineRun(elements(10_000, concurrency), concurrency))
  console.log(
    `${'for_each of 10,000 elements'.padEnd(34)} engine ${rate(10_000, e10k).toLocaleString('en').padStart(8)} elements/s (${e10k.toFixed(0)} ms)   peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MiB`,
  )
  const latency = await engineLatency(200)
  console.log(`start → result of a 1-task execution (memory store, 200 in a row): p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms`)
  // 100,000 tasks at once: ten executions of the 10k fan-out started together, with the peak RSS of this run alone.
  peakRss = process.memoryUsage().rss
  const hundred = await engineRun(fanOut(10_000), concurrency, undefined, 10)
  console.log(
    `${'ten 10k fan-outs at once (100k)'.padEnd(34)} engine ${rate(100_000, hundred).toLocaleString('en').padStart(8)} tasks/s (${hundred.toFixed(0)} ms)   peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MiB`,
  )
  await xstateFloor()
}
clearInterval(sampler)

// Each scenario catches its own failures and prints them: a bench never fails the run.
for (const [name, load] of [
  ['remote', async () => (await import('./remote.js')).remoteBench()],
  ['durable', async () => (await import('./durable.js')).durableBench()],
  ['http', async () => (await import('./http.js')).httpBench()],
  ['nodes', async () => (await import('./nodes.js')).nodesBench()],
] as const) {
  if (!wants(name)) continue
  console.log('')
  await load()
}
