import { expect, it } from 'vitest'
import { SimulatedClock } from 'xstate'
import type { Store } from '../../src/db/store.js'
import { createHarmonia } from '../../src/harmonia.js'
import { describeEachStore, testStore, until } from '../support/harness.js'

/**
 * An execution paused while a task waits in its retry backoff: the attempt that failed is reported once
 * (`task_retrying` once per attempt, also across pause and resume), the backoff starts over on resume, and the
 * re-armed backoff is a durable timer that a restart resumes with the time that remains.
 */

const flaky = {
  name: 'flaky',
  tasks: [
    {
      id: 'f',
      component: 'harmonia',
      action: 'fail',
      input: { attempts: 1, message: 'first attempt fails' },
      retry: { max_attempts: 3, initial_interval: 10, jitter: false },
    },
  ],
}

function open(store: Store, clock: SimulatedClock) {
  return createHarmonia({ store, clock, random: () => 0.5 })
}

describeEachStore('pause during a retry backoff', () => {
  it('reports task_retrying once per attempt; resume re-arms the backoff; the task then completes', async () => {
    const store = testStore()
    const clock = new SimulatedClock()
    clock.set(Date.parse('2026-01-01T00:00:00Z'))
    const harmonia = await open(store, clock)
    const workflow = await harmonia.createWorkflow(flaky)
    const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
    const retrying = async () => (await harmonia.getEvents(execution_id)).filter((e) => e.type === 'task_retrying')
    await until(async () => (await retrying()).length === 1, 'first attempt failed')

    await harmonia.pauseExecution(execution_id)
    clock.increment(30_000)
    await harmonia.flush()
    expect((await harmonia.getExecution(execution_id)).task_executions.f).toMatchObject({ status: 'paused', attempts: 1 })
    await harmonia.resumeExecution(execution_id)
    await harmonia.flush()
    expect((await harmonia.getExecution(execution_id)).task_executions.f).toMatchObject({ status: 'retrying', attempts: 1 })

    clock.increment(10_000)
    const done = await harmonia.waitForExecution(execution_id)
    expect(done.status).toBe('completed')
    expect(done.task_executions.f).toMatchObject({ status: 'completed', attempts: 2 })
    const events = await harmonia.getEvents(execution_id)
    expect(events.filter((e) => e.type === 'task_retrying').map((e) => e.data.attempt)).toEqual([1])
    expect(events.map((e) => e.type)).toEqual([
      'workflow_started',
      'task_started',
      'task_retrying',
      'workflow_paused',
      'workflow_resumed',
      'task_started',
      'task_completed',
      'workflow_completed',
    ])
    await harmonia.close()
  })

  it('after resume, a restart resumes the re-armed backoff with the time that remains', async () => {
    const store = testStore()
    const clock = new SimulatedClock()
    clock.set(Date.parse('2026-01-01T00:00:00Z'))
    const a = await open(store, clock)
    const workflow = await a.createWorkflow(flaky)
    const { execution_id } = await a.startExecution({ workflow_id: workflow.workflow_id })
    await until(async () => (await a.getExecution(execution_id)).task_executions.f!.status === 'retrying', 'in backoff')
    await a.pauseExecution(execution_id)
    clock.increment(60_000)
    await a.resumeExecution(execution_id)
    await a.flush()
    clock.increment(4_000)
    await a.close()

    // 6 s of the 10 s backoff remain: not due after 5 s, due after 6 s.
    const b = await open(store, clock)
    clock.increment(5_000)
    await b.flush()
    expect((await b.getExecution(execution_id)).task_executions.f).toMatchObject({ status: 'retrying', attempts: 1 })
    clock.increment(1_000)
    const done = await b.waitForExecution(execution_id)
    expect(done.task_executions.f).toMatchObject({ status: 'completed', attempts: 2 })
    expect((await b.getEvents(execution_id)).filter((e) => e.type === 'task_retrying')).toHaveLength(1)
    await b.close()
  })
})
