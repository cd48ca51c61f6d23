import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { until } from '../support/async.js'

/** Graceful shutdown: SIGTERM to the real server during a run, then a restart finishes the execution. */

const root = join(import.meta.dirname, '..', '..')
const dataDir = mkdtempSync(join(tmpdir(), 'harmonia-shutdown-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

function startServerProcess(port: number) {
  const { DATABASE_URL: _, ...env } = process.env
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/main.ts')], {
    env: { ...env, HARMONIA_PORT: String(port), HARMONIA_DATA_DIR: dataDir, HARMONIA_GRACE_MS: '200', HARMONIA_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, exited, output: () => out }
}

it('SIGTERM during a run, then a restart, finishes the execution', { timeout: 120_000 }, async () => {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const json = async (path: string, init?: RequestInit) => (await (await fetch(base + path, init)).json()) as Record<string, any>
  const first = startServerProcess(port)
  await until(() => first.output().includes('listening'), 'first server up', 60_000)
  const wf = await json('/api/workflows', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'nap',
      tasks: [
        { id: 'a', component: 'harmonia', action: 'echo', input: { v: 1 } },
        { id: 'z', component: 'harmonia', action: 'sleep', input: { seconds: 2 }, depends_on: ['a'] },
        { id: 'b', component: 'harmonia', action: 'echo', input: { v: '${tasks.a.output.v}' }, depends_on: ['z'] },
      ],
    }),
  })
  const ex = await json('/api/executions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workflow_id: wf.workflow_id }),
  })
  await until(
    async () => (await json(`/api/executions/${ex.execution_id}`)).task_executions.z.status === 'running',
    'sleep running',
    30_000,
  )
  first.child.kill('SIGTERM')
  expect(await first.exited).toBe(0)

  const second = startServerProcess(port)
  try {
    await until(() => second.output().includes('listening'), 'second server up', 60_000)
    await until(
      async () => (await json(`/api/executions/${ex.execution_id}`)).status === 'completed',
      'execution completed after restart',
      60_000,
    )
    const done = await json(`/api/executions/${ex.execution_id}`)
    expect(done.task_executions.b.output).toEqual({ v: 1 })
    const events = (await json(`/api/executions/${ex.execution_id}/history`)).events as Array<{ seq: number }>
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1))
  } finally {
    second.child.kill('SIGTERM')
    await second.exited
  }
})
