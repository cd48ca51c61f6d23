import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { Store } from '../../src/db/store.js'
import { createHarmonia, type Harmonia, type HarmoniaOptions } from '../../src/harmonia.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { apiClient } from '../support/api.js'
import { describeEachStore, testStore, until } from '../support/harness.js'
import { isGone } from '../support/process.js'

/**
 * Create-time component checks over HTTP (API.md "Remote components", "Built-ins"), the disabled shell at run time,
 * and the shell through the engine: a cancel kills the command's whole process group, grandchildren included.
 */

const PROBLEM = 'application/problem+json'
const dir = mkdtempSync(join(tmpdir(), 'harmonia-checks-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let server: RunningServer | undefined
const engines: Harmonia[] = []
const call = apiClient(() => server!.url)

afterEach(async () => {
  await server?.close()
  server = undefined
  for (const engine of engines.splice(0)) await engine.close()
})

async function engine(options: HarmoniaOptions): Promise<Harmonia> {
  const harmonia = await createHarmonia({ recover: false, ...options })
  engines.push(harmonia)
  return harmonia
}

async function serve(options: HarmoniaOptions) {
  server = await startServer({ harmonia: await engine(options), port: 0, hostname: '127.0.0.1', tokens: [] })
}

const shellTask = (command: string) => ({ id: 'sh', component: 'shell', action: 'execute_command', input: { command } })

describe('create-time component checks over HTTP', () => {
  it('an unknown component: 422 at tasks[i].component, saying how to make it known', async () => {
    await serve({ database: 'memory:store', strictComponents: true, enableShell: false })
    const answer = await call('POST', '/api/workflows', {
      name: 'unknown',
      tasks: [{ id: 'a', component: 'nobody-knows-me', action: 'run' }],
    })
    expect(answer.status).toBe(422)
    expect(answer.type).toContain(PROBLEM)
    expect(answer.body.errors).toEqual([{ path: 'tasks[0].component', message: expect.stringContaining('nobody-knows-me') }])
    const message = answer.body.errors[0].message as string
    expect(message).toContain('POST /api/components')
    expect(message).toContain('HARMONIA_CONFIG')
    expect(message).toContain('Hermes')
    // Registered over the API, the same workflow is accepted.
    expect((await call('POST', '/api/components', { name: 'nobody-knows-me', url: 'http://127.0.0.1:9' })).status).toBe(201)
    expect(
      (await call('POST', '/api/workflows', { name: 'known', tasks: [{ id: 'a', component: 'nobody-knows-me', action: 'run' }] })).status,
    ).toBe(201)
  })

  it('the shell while disabled: 422 at tasks[i].component naming HARMONIA_ENABLE_SHELL, strict or not', async () => {
    for (const strictComponents of [true, false]) {
      await serve({ database: 'memory:store', strictComponents, enableShell: false })
      const answer = await call('POST', '/api/workflows', {
        name: 'shell-off',
        tasks: [{ id: 'first', component: 'harmonia', action: 'noop' }, shellTask('echo hi')],
      })
      expect(answer.status, `strict: ${strictComponents}`).toBe(422)
      expect(answer.type).toContain(PROBLEM)
      expect(answer.body.errors).toEqual([{ path: 'tasks[1].component', message: expect.stringContaining('HARMONIA_ENABLE_SHELL') }])
      await server!.close()
      server = undefined
    }
  })
})

describeEachStore('the shell disabled at run time', () => {
  it('a stored workflow reaching a disabled shell fails its task with component_disabled', async () => {
    // API.md refuses the shell at create while it is off (strict or not, see above); a task reaches it when the workflow
    // was created while it was on, and the server restarted with it off.
    const store = testStore()
    const kept: Store = { ...store, close: async () => {} }
    const before = await engine({ store: kept, enableShell: true })
    const wf = await before.createWorkflow({ name: 'shell-then-off', tasks: [shellTask('echo should not run > /dev/null')] })
    await before.close()

    const after = await engine({ store, enableShell: false, strictComponents: false })
    const { execution_id } = await after.startExecution({ workflow_id: wf.workflow_id })
    const done = await after.waitForExecution(execution_id)
    expect(done.status).toBe('failed')
    expect(done.task_executions.sh).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'component_disabled', retryable: false, message: expect.stringContaining('HARMONIA_ENABLE_SHELL') },
    })
  })
})

describe('the shell through the engine', () => {
  it('runs a command over HTTP; canceling the execution kills its grandchild', async () => {
    await serve({ database: 'memory:store', enableShell: true })
    const echo = (await call('POST', '/api/workflows', { name: 'echo', tasks: [shellTask('echo Hello World')] })).body
    const echoed = (await call('POST', '/api/executions', { workflow_id: echo.workflow_id })).body
    const finished = await server!.harmonia.waitForExecution(echoed.execution_id)
    expect(finished.task_executions.sh).toMatchObject({ status: 'completed', output: { exit_code: 0, result: 'Hello World' } })

    const file = join(dir, 'grandchild.pid')
    const wf = await call('POST', '/api/workflows', { name: 'sleepy', tasks: [shellTask(`sleep 60 & echo $! > '${file}'; wait`)] })
    expect(wf.status).toBe(201)
    const ex = (await call('POST', '/api/executions', { workflow_id: wf.body.workflow_id })).body
    await until(() => existsSync(file) && readFileSync(file, 'utf8').trim() !== '', 'the grandchild pid')
    const pid = Number(readFileSync(file, 'utf8').trim())
    expect(isGone(pid)).toBe(false)

    const canceled = await call('POST', `/api/executions/${ex.execution_id}/cancel`)
    expect(canceled.status).toBe(202)
    await until(() => isGone(pid), `the grandchild ${pid} gone`)
    const done = await server!.harmonia.waitForExecution(ex.execution_id)
    expect(done.status).toBe('canceled')
    expect(done.task_executions.sh!.status).toBe('canceled')
  })
})
