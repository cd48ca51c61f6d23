import { afterEach, expect, it } from 'vitest'
import { SimulatedClock } from 'xstate'
import { createHarmonia } from '../../src/harmonia.js'
import { deferred, describeEachStore, testEngine, testStore, until, type TestEngine } from '../support/harness.js'

let engine: TestEngine | undefined
afterEach(async () => {
  await engine?.harmonia.close()
  engine = undefined
})

/** A definition as data in an upstream task's input: `$${` keeps its expressions from being evaluated there. */
const asData = (value: unknown): unknown => JSON.parse(JSON.stringify(value).replaceAll('${', () => '$${'))

const child = {
  name: 'child',
  input: { n: { type: 'integer', required: true } },
  tasks: [{ id: 'double', component: 'harmonia', action: 'echo', input: { v: '${input.n * 2}' } }],
  output: { v: '${tasks.double.output.v}' },
}

describeEachStore('sub-workflows', () => {
  it('the child runs with its input, is linked both ways, and its output is the task output', async () => {
    engine = await testEngine()
    const { harmonia } = engine
    const sub = await harmonia.createWorkflow(child)
    const parentWf = await harmonia.createWorkflow({
      name: 'parent',
      tasks: [{ id: 'call', component: 'harmonia', action: 'run_workflow', input: { workflow_id: sub.workflow_id, input: { n: 21 } } }],
      output: { answer: '${tasks.call.output.v}' },
    })
    const { execution_id } = await harmonia.startExecution({ workflow_id: parentWf.workflow_id })
    const done = await harmonia.waitForExecution(execution_id)
    expect(done).toMatchObject({ status: 'completed', output: { answer: 42 }, parent: null })
    const childId = done.task_executions.call!.child_execution_id!
    expect(childId).toMatch(/^[0-9a-f-]{36}$/)
    const kid = await harmonia.getExecution(childId)
    expect(kid).toMatchObject({
      status: 'completed',
      workflow_id: sub.workflow_id,
      input: { n: 21 },
      parent: { execution_id, task_id: 'call' },
    })
  })

  it('a child failure fails the parent task; a definition generated upstream runs; an invalid one fails with invalid_definition', async () => {
    engine = await testEngine()
    const { harmonia } = engine
    const failing = await harmonia.createWorkflow({
      name: 'bad child',
      tasks: [{ id: 'x', component: 'harmonia', action: 'fail', input: { message: 'child broke', retryable: false } }],
    })
    const parentWf = await harmonia.createWorkflow({
      name: 'parent',
      tasks: [
        { id: 'call', component: 'harmonia', action: 'run_workflow', input: { workflow_id: failing.workflow_id } },
        { id: 'plan', component: 'harmonia', action: 'echo', input: { definition: asData(child) } },
        {
          id: 'generated',
          component: 'harmonia',
          action: 'run_workflow',
          input: { definition: '${tasks.plan.output.definition}', input: { n: 5 } },
          depends_on: ['plan'],
        },
        { id: 'broken_plan', component: 'harmonia', action: 'echo', input: { definition: { name: 'no tasks', tasks: [] } } },
        {
          id: 'invalid',
          component: 'harmonia',
          action: 'run_workflow',
          input: { definition: '${tasks.broken_plan.output.definition}' },
          depends_on: ['broken_plan'],
        },
      ],
    })
    const done = await harmonia.waitForExecution((await harmonia.startExecution({ workflow_id: parentWf.workflow_id })).execution_id)
    expect(done.task_executions.call).toMatchObject({
      status: 'failed',
      error: { message: expect.stringContaining('child broke'), retryable: false },
    })
    expect(done.task_executions.generated).toMatchObject({ status: 'completed', output: { v: 10 } })
    expect(done.task_executions.invalid).toMatchObject({
      status: 'failed',
      error: { code: 'invalid_definition', message: expect.stringContaining('definition.tasks') },
    })
  })

  it('canceling the parent cancels the running child; pausing and resuming carry over', async () => {
    const gate = deferred()
    engine = await testEngine({ components: { t: { wait: () => gate.promise.then(() => ({ ok: true })) } }, strictComponents: false })
    const { harmonia } = engine
    const slow = await harmonia.createWorkflow({
      name: 'slow',
      tasks: [
        { id: 'w', component: 't', action: 'wait' },
        { id: 'after', component: 'harmonia', action: 'noop', depends_on: ['w'] },
      ],
    })
    const parentWf = await harmonia.createWorkflow({
      name: 'parent',
      tasks: [{ id: 'call', component: 'harmonia', action: 'run_workflow', input: { workflow_id: slow.workflow_id } }],
    })
    const { execution_id } = await harmonia.startExecution({ workflow_id: parentWf.workflow_id })
    let childId = ''
    await until(
      async () => (childId = (await harmonia.getExecution(execution_id)).task_executions.call!.child_execution_id ?? '') !== '',
      'the child started',
    )
    await until(async () => (await harmonia.getExecution(childId).catch(() => undefined))?.status === 'running', 'the child runs')
    await harmonia.pauseExecution(execution_id)
    expect((await harmonia.getExecution(childId)).status).toBe('paused')
    await harmonia.resumeExecution(execution_id)
    expect((await harmonia.getExecution(childId)).status).toBe('running')
    await harmonia.cancelExecution(execution_id)
    expect((await harmonia.waitForExecution(childId)).status).toBe('canceled')
    expect((await harmonia.waitForExecution(execution_id)).status).toBe('canceled')
    gate.resolve()
  })

  it('nesting deeper than 10 levels fails with depth_exceeded', async () => {
    engine = await testEngine()
    const { harmonia } = engine
    // A workflow that runs itself: each level is one deeper.
    const looping = await harmonia.createWorkflow({ name: 'deep', tasks: [{ id: 'again', component: 'harmonia', action: 'noop' }] })
    await harmonia.updateWorkflow(looping.workflow_id, {
      tasks: [{ id: 'again', component: 'harmonia', action: 'run_workflow', input: { workflow_id: looping.workflow_id } }],
    })
    const done = await harmonia.waitForExecution((await harmonia.startExecution({ workflow_id: looping.workflow_id })).execution_id)
    expect(done.status).toBe('failed')
    let error = done.task_executions.again!.error
    let id = done.task_executions.again!.child_execution_id
    let depth = 0
    while (id) {
      depth++
      const kid = await harmonia.getExecution(id)
      error = kid.task_executions.again!.error
      id = kid.task_executions.again!.child_execution_id
    }
    expect(depth).toBe(10)
    expect(error).toMatchObject({ code: 'depth_exceeded' })
  })
})

describeEachStore('sub-workflows across a restart', () => {
  it('the parent recovered while its child runs finds the child and starts no second one', async () => {
    const store = testStore()
    const clock = new SimulatedClock()
    clock.set(Date.parse('2026-01-01T00:00:00Z'))
    const open = () => createHarmonia({ store, clock, random: () => 0.5 })
    const a = await open()
    const sleeper = await a.createWorkflow({
      name: 'sleeper',
      tasks: [{ id: 'z', component: 'harmonia', action: 'sleep', input: { seconds: 60 } }],
      output: { slept: '${tasks.z.output.slept}' },
    })
    const parentWf = await a.createWorkflow({
      name: 'parent',
      tasks: [{ id: 'call', component: 'harmonia', action: 'run_workflow', input: { workflow_id: sleeper.workflow_id } }],
    })
    const { execution_id } = await a.startExecution({ workflow_id: parentWf.workflow_id })
    let childId = ''
    await until(
      async () => (childId = (await a.getExecution(execution_id)).task_executions.call!.child_execution_id ?? '') !== '',
      'the child started',
    )
    await until(
      async () => (await a.getExecution(childId).catch(() => undefined))?.task_executions.z!.status === 'running',
      'the child sleeps',
    )
    await a.close()

    const b = await open()
    clock.increment(60_000)
    const done = await b.waitForExecution(execution_id)
    expect(done).toMatchObject({ status: 'completed' })
    expect(done.task_executions.call).toMatchObject({ status: 'completed', output: { slept: 60 }, child_execution_id: childId })
    const children = (await b.listExecutions({ workflow_id: sleeper.workflow_id })).items
    expect(children.map((e) => e.execution_id)).toEqual([childId])
    await b.close()
  })
})
