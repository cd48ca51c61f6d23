/**
 * HTTP figures: requests/s and p99 latency for GET /api/executions/{id} and for POST /api/executions of a 1-task
 * workflow, concurrency 50, against a started server (PGlite in a temporary folder, as `npm start` uses by default).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import postgres from 'postgres'
import { startServer } from '../src/http/server.js'
import { quietLogger } from './shapes.js'

type Result = { requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number }

/** autocannon in a process of its own, so the load generator does not share the server's event loop. */
async function load(
  title: string,
  options: { url: string; method?: string; body?: string; headers?: Record<string, string> },
): Promise<void> {
  const args = ['-c', '50', '-d', '5', '-j']
  if (options.method) args.push('-m', options.method)
  if (options.body) args.push('-b', options.body)
  for (const [k, v] of Object.entries(options.headers ?? {})) args.push('-H', `${k}=${v}`)
  args.push(options.url)
  const { stdout } = await promisify(execFile)(join(import.meta.dirname, '..', 'node_modules', '.bin', 'autocannon'), args, {
    maxBuffer: 64 * 1024 * 1024,
  })
  const result = JSON.parse(stdout) as Result
  const errors = result.non2xx + result.errors
  console.log(
    `HTTP ${title}: ${Math.round(result.requests.average).toLocaleString('en')} requests/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms` +
      (errors > 0 ? ` (${errors} errors/non-2xx)` : ''),
  )
}

export async function httpBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'harmonia-http-bench-'))
  try {
    await against('PGlite', join(dir, 'data'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const name = `harmonia_http_bench_${process.pid}`
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {}, connect_timeout: 3 })
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`)
    const url = new URL(serverUrl)
    url.pathname = `/${name}`
    await against('Postgres', url.toString())
  } catch (error) {
    console.log(`HTTP bench on Postgres skipped: ${String(error)}`)
  } finally {
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {})
    await admin.end()
  }
}

async function against(label: string, database: string): Promise<void> {
  const server = await startServer({
    port: 0,
    hostname: '127.0.0.1',
    tokens: [],
    logger: quietLogger,
    harmoniaOptions: { database, logger: quietLogger },
  })
  try {
    const wf = await server.harmonia.createWorkflow({ name: 'one', tasks: [{ id: 'n', component: 'harmonia', action: 'noop' }] })
    const ex = await server.harmonia.startExecution({ workflow_id: wf.workflow_id })
    await server.harmonia.waitForExecution(ex.execution_id)
    await load(`GET /api/executions/{id} (${label}, concurrency 50)`, { url: `${server.url}/api/executions/${ex.execution_id}` })
    await load(`POST /api/executions of a 1-task workflow (${label}, concurrency 50)`, {
      url: `${server.url}/api/executions`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workflow_id: wf.workflow_id }),
    })
  } finally {
    await server.close()
  }
}
