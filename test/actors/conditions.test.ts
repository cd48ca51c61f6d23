import { afterEach, expect, it } from 'vitest'
import { ValidationError } from '../../src/errors.js'
import { describeEachStore, testEngine, type TestEngine } from '../support/harness.js'

let engine: TestEngine | undefined
afterEach(async () => {
  await engine?.harmonia.close()
  engine = undefined
})

describeEachStore('conditions', () => {
  it('a condition that can never be boolean is refused at create, naming the field', async () => {
    engine = await testEngine()
    const body = { name: 'w', tasks: [{ id: 'a', component: 'harmonia', action: 'noop', when: '${input.n + 1}' }] }
    const error = await engine.harmonia.createWorkflow(body).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).errors).toEqual([{ path: 'tasks[0].when', message: expect.stringMatching(/must be a boolean/) }])
  })

  it('a condition that is not boolean at run time fails its task with code when_not_boolean; dependents are skipped', async () => {
    engine = await testEngine()
    const { harmonia } = engine
    const workflow = await harmonia.createWorkflow({
      name: 'w',
      tasks: [
        { id: 'gate', component: 'harmonia', action: 'noop', when: '${input.flag}' },
        { id: 'after', component: 'harmonia', action: 'noop', depends_on: ['gate'] },
      ],
    })
    const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id, input: { flag: 5 } })
    const done = await harmonia.waitForExecution(execution_id)
    expect(done.status).toBe('failed')
    expect(done.task_executions.gate).toMatchObject({
      status: 'failed',
      attempts: 0,
      error: {
        code: 'when_not_boolean',
        retryable: false,
        message: 'when: condition ${input.flag} must evaluate to a boolean, but it gave a number 5',
      },
    })
    expect(done.task_executions.after!.status).toBe('skipped')
  })

  it('task_skipped names its cause as data (condition or upstream), beside the readable reason', async () => {
    engine = await testEngine()
    const { harmonia } = engine
    const workflow = await harmonia.createWorkflow({
      name: 'w',
      tasks: [
        { id: 'gate', component: 'harmonia', action: 'noop', when: '${input.go}' },
        { id: 'boom', component: 'harmonia', action: 'fail' },
        { id: 'after_boom', component: 'harmonia', action: 'noop', depends_on: ['boom'] },
      ],
    })
    const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id, input: { go: false } })
    await harmonia.waitForExecution(execution_id)
    const skipped = (await harmonia.getEvents(execution_id)).filter((e) => e.type === 'task_skipped')
    expect(skipped.map((e) => [e.task_id, e.data])).toEqual([
      ['gate', { reason: 'condition is false', cause: 'condition' }],
      ['after_boom', { reason: 'upstream task boom failed', cause: 'upstream', upstream: 'boom' }],
    ])
  })
})
