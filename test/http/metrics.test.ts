import parsePrometheus, { type Family } from 'parse-prometheus-text-format'
import { afterEach, describe, expect, it } from 'vitest'
import type { HandlerContext } from '../../src/components/handler.js'
import { createHarmonia, type Harmonia } from '../../src/harmonia.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { deferred, until } from '../support/async.js'

/** GET /metrics (API.md "Observability and UI"): Prometheus text, the contract's names, counters that move, auth. */

let server: RunningServer | undefined
let harmonia: Harmonia | undefined
afterEach(async () => {
  await server?.close()
  await harmonia?.close()
  server = harmonia = undefined
})

async function start(options: { tokens?: string[]; metricsPublic?: boolean } = {}) {
  const release = deferred<void>()
  let calls = 0
  harmonia = await createHarmonia({
    database: 'memory:store',
    strictComponents: false,
    components: {
      flaky: {
        // Fails its first call, then answers.
        once: () => {
          if (++calls === 1) throw Object.assign(new Error('first call fails'), { retryable: true })
          return { ok: true }
        },
      },
      held: { wait: (_: unknown, ctx: HandlerContext) => release.promise.then(() => ({ task: ctx.taskId })) },
    },
  })
  server = await startServer({
    harmonia,
    port: 0,
    hostname: '127.0.0.1',
    tokens: options.tokens ?? [],
    metricsPublic: options.metricsPublic ?? false,
  })
  return { url: server.url, release }
}

type Scrape = Map<string, Family>

/**
 * The families of GET /metrics, parsed. The parser folds a labelled histogram into one label-less sample, so the text
 * is parsed a second time without its histograms' HELP and TYPE lines: each `_count` / `_bucket` series then keeps its labels.
 */
async function scrape(url: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const response = await fetch(`${url}/metrics`, { headers })
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
  const text = await response.text()
  const families: Scrape = new Map(parsePrometheus(text).map((family) => [family.name, family]))
  const histograms = [...text.matchAll(/^# TYPE (\S+) histogram$/gm)].map((m) => m[1]!)
  const untyped = text
    .split('\n')
    .filter((line) => !histograms.some((name) => line.startsWith(`# HELP ${name} `) || line.startsWith(`# TYPE ${name} `)))
    .join('\n')
  // Series of one histogram come interleaved (buckets, sum, count per label set): merge the `_count` runs.
  for (const family of parsePrometheus(untyped)) {
    if (!family.name.endsWith('_count')) continue
    const seen = families.get(family.name)
    if (seen) seen.metrics.push(...family.metrics)
    else families.set(family.name, family)
  }
  return families
}

/** A counter's or gauge's value, or a histogram's count, for the series with these labels (0 when absent). */
const value = (families: Scrape, name: string, labels: Record<string, string> = {}): number => {
  const family = families.get(families.get(name)?.type === 'HISTOGRAM' ? `${name}_count` : name)
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
  return sample ? Number(sample.value) : 0
}

describe('GET /metrics', () => {
  it("parses as Prometheus text with the contract's metrics and the default process metrics", async () => {
    const { url } = await start()
    const families = await scrape(url)
    for (const name of [
      'harmonia_executions_started_total',
      'harmonia_executions_finished_total',
      'harmonia_tasks_finished_total',
      'harmonia_task_retries_total',
      'harmonia_task_duration_seconds',
      'harmonia_task_queue_seconds',
      'harmonia_executions_running',
      'harmonia_tasks_running',
      'harmonia_commit_seconds',
      'harmonia_sse_clients',
      'process_cpu_user_seconds_total',
      'nodejs_heap_size_used_bytes',
    ])
      expect(families.has(name), name).toBe(true)
    expect(families.get('harmonia_task_duration_seconds')!.type).toBe('HISTOGRAM')
    expect(families.get('harmonia_commit_seconds')!.type).toBe('HISTOGRAM')
  })

  it('counters move as executions run and finish; gauges follow what runs; no label carries an id', async () => {
    const { url, release } = await start()
    const post = (path: string, body: unknown) =>
      fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
        (r) => r.json() as Promise<Record<string, string>>,
      )
    const retrying = await post('/api/workflows', {
      name: 'metered',
      tasks: [
        { id: 'a', component: 'flaky', action: 'once', retry: { max_attempts: 2, initial_interval: 0.001 } },
        { id: 'b', component: 'harmonia', action: 'noop', depends_on: ['a'] },
      ],
    })
    const holding = await post('/api/workflows', { name: 'holding', tasks: [{ id: 'h', component: 'held', action: 'wait' }] })
    const before = await scrape(url)
    expect(value(before, 'harmonia_executions_started_total', { workflow: 'metered' })).toBe(0)

    const done = await post('/api/executions', { workflow_id: retrying.workflow_id! })
    await until(async () => (await harmonia!.getExecution(done.execution_id!)).status === 'completed')
    const held = await post('/api/executions', { workflow_id: holding.workflow_id! })
    const stream = await fetch(`${url}/events/executions/${held.execution_id}`)
    await until(async () => value(await scrape(url), 'harmonia_tasks_running') === 1)

    const during = await scrape(url)
    expect(value(during, 'harmonia_executions_started_total', { workflow: 'metered' })).toBe(1)
    expect(value(during, 'harmonia_executions_finished_total', { workflow: 'metered', status: 'completed' })).toBe(1)
    expect(value(during, 'harmonia_tasks_finished_total', { component: 'flaky', status: 'completed' })).toBe(1)
    expect(value(during, 'harmonia_tasks_finished_total', { component: 'harmonia', status: 'completed' })).toBe(1)
    expect(value(during, 'harmonia_task_retries_total', { component: 'flaky' })).toBe(1)
    expect(value(during, 'harmonia_task_duration_seconds', { component: 'flaky' })).toBe(1)
    expect(value(during, 'harmonia_task_queue_seconds')).toBeGreaterThanOrEqual(2)
    expect(value(during, 'harmonia_commit_seconds')).toBeGreaterThan(0)
    expect(value(during, 'harmonia_executions_running')).toBe(1)
    expect(value(during, 'harmonia_sse_clients')).toBe(1)

    // Low cardinality: no label value is an execution or task id.
    const ids = new Set([done.execution_id, held.execution_id, 'a', 'b', 'h'])
    for (const family of during.values())
      for (const sample of family.metrics)
        for (const v of Object.values(sample.labels ?? {})) expect(ids.has(v), `${family.name} ${v}`).toBe(false)

    release.resolve()
    await stream.body!.cancel()
    await until(async () => {
      const after = await scrape(url)
      return (
        value(after, 'harmonia_executions_finished_total', { workflow: 'holding', status: 'completed' }) === 1 &&
        value(after, 'harmonia_executions_running') === 0 &&
        value(after, 'harmonia_tasks_running') === 0 &&
        value(after, 'harmonia_sse_clients') === 0
      )
    })
  })

  it('needs a token when tokens are configured, unless HARMONIA_METRICS_PUBLIC is set', async () => {
    const { url } = await start({ tokens: ['viewer:seen'] })
    expect((await fetch(`${url}/metrics`)).status).toBe(401)
    expect((await scrape(url, { authorization: 'Bearer seen' })).has('harmonia_commit_seconds')).toBe(true)
    await server!.close()
    await harmonia!.close()
    const open = await start({ tokens: ['viewer:seen'], metricsPublic: true })
    expect((await scrape(open.url)).has('harmonia_commit_seconds')).toBe(true)
    expect((await fetch(`${open.url}/api/workflows`)).status).toBe(401)
  })
})
