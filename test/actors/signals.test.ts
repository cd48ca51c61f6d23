import { afterEach, expect, it } from 'vitest'
import { SimulatedClock } from 'xstate'
import { createHarmonia } from '../../src/harmonia.js'
import { InvalidTransitionError, NotFoundError } from '../../src/errors.js'
import { describeEachStore, testEngine, testStore, until, type TestEngine } from '../support/harness.js'

let engine: TestEngine | undefined
afterEach(async () => {
  await engine?.harmonia.close()
  engine = undefined
})

const approval = (extra: Record<string, unknown> = {}) => ({
  name: 'approval',
  tasks: [
    { id: 'approve', component: 'harmonia', action: 'wait_for_signal', input: { name: 'approved', ...extra } },
    { id: 'after', component: 'harmonia', action: 'echo', input: { by: '${tasks.approve.output.by}' }, depends_on: ['approve'] },
  ],
})

describeEachStore('signals and approvals', () => {
  it('a waiting task takes the signal at once (delivered), its payload is its output; signal_received is an event', async () => {
    engine = await testEngine()
    const { harmonia } = engine
    const workflow = await harmonia.createWorkflow(approval())
    const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
    await until(async () => (await harmonia.listSignals(execution_id)).some((s) => s.waiting), 'the task waits')
    expect(await harmonia.listSignals(execution_id)).toEqual([{ name: 'approved', waiting: true, received: [] }])
    expect(await harmonia.sendSignal(execution_id, 'approved', { payload: { by: 'ada' } })).toEqual({
      execution_id,
      name: 'approved',
      delivered: true,
    })
    const done = await harmonia.waitForExecution(execution_id)
    expect(done.status).toBe('completed')
    expect(done.task_executions.approve).toMatchObject({ status: 'completed', output: { by: 'ada' } })
    expect(done.task_executions.after!.output).toEqual({ by: 'ada' })
    const events = await harmonia.getEvents(execution_id)
    expect(events.filter((e) => e.type === 'signal_received').map((e) => e.data)).toEqual([{ name: 'approved' }])
    expect(await harmonia.listSignals(execution_id)).toEqual([{ name: 'approved', waiting: false, received: [{ by: 'ada' }] }])
  })

  it('a signal sent before the wait is kept and consumed by the first wait; a second one waits for the next wait', async () => {
    engine = await testEngine()
    const { harmonia } = engine
    const workflow = await harmonia.createWorkflow({
      name: 'late waits',
      tasks: [
        { id: 'first', component: 'harmonia', action: 'sleep', input: { seconds: 10 } },
        { id: 'w1', component: 'harmonia', action: 'wait_for_signal', input: { name: 'go' }, depends_on: ['first'] },
        { id: 'w2', component: 'harmonia', action: 'wait_for_signal', input: { name: 'go' }, depends_on: ['w1'] },
      ],
    })
    const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
    await until(async () => (await harmonia.getExecution(execution_id)).task_executions.first!.status === 'running', 'sleeping')
    expect((await harmonia.sendSignal(execution_id, 'go', { payload: 1 })).delivered).toBe(false)
    expect((await harmonia.sendSignal(execution_id, 'go', { payload: 2 })).delivered).toBe(false)
    engine.clock.increment(10_000)
    const done = await harmonia.waitForExecution(execution_id)
    expect(done.task_executions.w1!.output).toBe(1)
    expect(done.task_executions.w2!.output).toBe(2)
  })

  it('a timeout fails the wait with signal_timeout (simulated clock)', async () => {
    engine = await testEngine()
    const { harmonia } = engine
    const workflow = await harmonia.createWorkflow(approval({ timeout: 60 }))
    const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
    await until(async () => (await harmonia.listSignals(execution_id)).some((s) => s.waiting), 'the task waits')
    engine.clock.increment(59_000)
    await harmonia.flush()
    expect((await harmonia.getExecution(execution_id)).task_executions.approve!.status).toBe('running')
    engine.clock.increment(1_000)
    const done = await harmonia.waitForExecution(execution_id)
    expect(done.task_executions.approve).toMatchObject({ status: 'failed', error: { code: 'signal_timeout', retryable: false } })
    expect(done.task_executions.after!.status).toBe('skipped')
  })

  it('404 for an unknown execution, 409 for a finished one; sleep until an ISO time', async () => {
    engine = await testEngine()
    const { harmonia } = engine
    await expect(harmonia.sendSignal('01890000-0000-7000-8000-000000000000', 'x')).rejects.toBeInstanceOf(NotFoundError)
    const workflow = await harmonia.createWorkflow({
      name: 'until',
      tasks: [{ id: 'nap', component: 'harmonia', action: 'sleep', input: { until: '2026-01-01T00:05:00Z' } }],
    })
    const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
    await until(async () => (await harmonia.getExecution(execution_id)).task_executions.nap!.status === 'running', 'napping')
    engine.clock.increment(299_000)
    await harmonia.flush()
    expect((await harmonia.getExecution(execution_id)).status).toBe('running')
    engine.clock.increment(1_000)
    expect((await harmonia.waitForExecution(execution_id)).task_executions.nap).toMatchObject({
      status: 'completed',
      output: { until: '2026-01-01T00:05:00Z' },
    })
    await expect(harmonia.sendSignal(execution_id, 'late')).rejects.toBeInstanceOf(InvalidTransitionError)
  })
})

describeEachStore('signals across a restart', () => {
  it('an approval wait survives a restart and completes when the signal arrives after it; the payload is taken once', async () => {
    const store = testStore()
    const clock = new SimulatedClock()
    clock.set(Date.parse('2026-01-01T00:00:00Z'))
    const open = () => createHarmonia({ store, clock, random: () => 0.5 })
    const a = await open()
    const workflow = await a.createWorkflow(approval({ timeout: 3600 }))
    const { execution_id } = await a.startExecution({ workflow_id: workflow.workflow_id })
    await until(async () => (await a.listSignals(execution_id)).some((s) => s.waiting), 'the task waits')
    await a.close()

    const b = await open()
    await until(async () => (await b.listSignals(execution_id)).some((s) => s.waiting), 'the task waits again after the restart')
    expect((await b.sendSignal(execution_id, 'approved', { payload: { by: 'grace' } })).delivered).toBe(true)
    const done = await b.waitForExecution(execution_id)
    expect(done.task_executions.approve).toMatchObject({ status: 'completed', output: { by: 'grace' } })
    expect(await b.listSignals(execution_id)).toEqual([{ name: 'approved', waiting: false, received: [{ by: 'grace' }] }])
    await b.close()
  })
})
