import { afterEach, describe, expect, it } from 'vitest'
import { createHarmonia, type Harmonia } from '../../src/harmonia.js'
import { createLogger } from '../../src/logger.js'
import { deferred, until } from '../support/harness.js'

/** An operator reading the server's log sees each execution that failed or was canceled, with its first error. */

let harmonia: Harmonia | undefined
afterEach(async () => {
  await harmonia?.close()
  harmonia = undefined
})

async function engine(components = {}) {
  const lines: string[] = []
  const logger = createLogger({ level: 'info', pretty: false, write: (line) => lines.push(line) })
  harmonia = await createHarmonia({ database: 'memory:store', logger, components, strictComponents: false })
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => String(r.message).startsWith('execution '))
  return { harmonia, records }
}

describe('one log line per finished execution that failed or was canceled', () => {
  it('a failed execution: warn with its id, workflow and the first failed task error', async () => {
    const { harmonia, records } = await engine()
    const workflow = await harmonia.createWorkflow({
      name: 'w',
      tasks: [
        { id: 'ok', component: 'harmonia', action: 'noop' },
        { id: 'bad', component: 'harmonia', action: 'fail', input: { message: 'disk full', retryable: false } },
        { id: 'worse', component: 'harmonia', action: 'fail', input: { message: 'second' }, depends_on: ['ok'] },
      ],
    })
    const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
    await harmonia.waitForExecution(execution_id)
    await until(() => records().length > 0, 'logged')
    expect(records()).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'execution failed',
        execution_id,
        workflow_id: workflow.workflow_id,
        task_id: 'bad',
        error: 'disk full',
        code: 'non_retryable',
      }),
    ])
  })

  it('a canceled execution: warn; a completed one: nothing', async () => {
    const gate = deferred()
    const { harmonia, records } = await engine({ t: { wait: () => gate.promise } })
    const waiting = await harmonia.createWorkflow({ name: 'wait', tasks: [{ id: 'w', component: 't', action: 'wait' }] })
    const quick = await harmonia.createWorkflow({ name: 'quick', tasks: [{ id: 'q', component: 'harmonia', action: 'noop' }] })
    const done = await harmonia.startExecution({ workflow_id: quick.workflow_id })
    await harmonia.waitForExecution(done.execution_id)
    const run = await harmonia.startExecution({ workflow_id: waiting.workflow_id })
    await until(async () => (await harmonia.getExecution(run.execution_id)).status === 'running', 'running')
    await harmonia.cancelExecution(run.execution_id)
    await harmonia.waitForExecution(run.execution_id)
    await until(() => records().length > 0, 'logged')
    expect(records()).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'execution canceled',
        execution_id: run.execution_id,
        workflow_id: waiting.workflow_id,
      }),
    ])
    gate.resolve()
  })
})
