import { afterEach, expect, it } from 'vitest'
import type { HandlerContext } from '../../src/components/handler.js'
import { describeEachStore, record, testEngine, until, type TestEngine } from '../support/harness.js'

let engine: TestEngine | undefined
afterEach(async () => {
  await engine?.harmonia.close()
  engine = undefined
})

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describeEachStore('fan-out', () => {
  it('runs 1,000 elements never more than for_each_concurrency at a time, output in order, items counted', async () => {
    let inFlight = 0
    let peak = 0
    engine = await testEngine({
      components: {
        t: {
          square: async (input: { n: number; at: number }) => {
            inFlight++
            peak = Math.max(peak, inFlight)
            await new Promise((resolve) => setImmediate(resolve))
            inFlight--
            return { sq: input.n * input.n, at: input.at }
          },
        },
      },
    })
    const { harmonia } = engine
    const wf = await harmonia.createWorkflow({
      name: 'fan',
      input: { list: { type: 'array', required: true } },
      max_concurrency: 50,
      tasks: [
        {
          id: 'each',
          component: 't',
          action: 'square',
          for_each: '${input.list}',
          for_each_concurrency: 20,
          input: { n: '${item}', at: '${index}' },
        },
        { id: 'after', component: 'harmonia', action: 'echo', depends_on: ['each'], input: { count: '${size(tasks.each.output)}' } },
      ],
      output: { first: '${tasks.each.output[0]}', last: '${tasks.each.output[999]}', count: '${tasks.after.output.count}' },
    })
    const { execution_id } = await harmonia.startExecution({ workflow_id: wf.workflow_id, input: { list: range(1000) } })
    const done = await harmonia.waitForExecution(execution_id)
    expect(done.status).toBe('completed')
    expect(peak).toBe(20)
    expect(done.output).toEqual({ first: { sq: 0, at: 0 }, last: { sq: 998001, at: 999 }, count: 1000 })
    const each = done.task_executions.each!
    expect(each.output).toEqual(range(1000).map((n) => ({ sq: n * n, at: n })))
    expect(each.items).toEqual({ total: 1000, completed: 1000, failed: 0, running: 0 })
    const events = await harmonia.getEvents(execution_id)
    const completed = events.filter((e) => e.type === 'task_completed' && e.task_id === 'each' && e.data?.index !== undefined)
    expect(completed.map((e) => e.data.index).sort((a, b) => Number(a) - Number(b))).toEqual(range(1000))
  })

  it('one element failing fails the task and skips its dependents; continue_on_error keeps the error in place', async () => {
    engine = await testEngine({
      components: {
        t: {
          pick: (input: { n: number }) => {
            if (input.n === 3) throw Object.assign(new Error('three is bad'), { code: 'bad_three', retryable: false })
            return input.n
          },
        },
      },
    })
    const { harmonia } = engine
    const make = (continueOnError: boolean) =>
      harmonia.createWorkflow({
        name: `fan ${continueOnError}`,
        tasks: [
          { id: 'each', component: 't', action: 'pick', for_each: [1, 2, 3, 4], continue_on_error: continueOnError, input: { n: '${item}' } },
          { id: 'next', component: 'harmonia', action: 'echo', depends_on: ['each'], input: {} },
        ],
      })
    const strict = await make(false)
    const failed = await harmonia.waitForExecution((await harmonia.startExecution({ workflow_id: strict.workflow_id })).execution_id)
    expect(failed.status).toBe('failed')
    expect(failed.task_executions.each).toMatchObject({ status: 'failed', error: { code: 'bad_three' } })
    expect(failed.task_executions.each!.error!.message).toContain('element 2')
    expect(failed.task_executions.next!.status).toBe('skipped')

    const lenient = await make(true)
    const ok = await harmonia.waitForExecution((await harmonia.startExecution({ workflow_id: lenient.workflow_id })).execution_id)
    expect(ok.status).toBe('completed')
    expect(ok.task_executions.each!.output).toEqual([1, 2, { error: expect.objectContaining({ message: 'three is bad', code: 'bad_three' }) }, 4])
    expect(ok.task_executions.each!.items).toEqual({ total: 4, completed: 3, failed: 1, running: 0 })
  })

  it('retry applies to each element, counting its own attempts from 1 (simulated clock)', async () => {
    const calls = new Map<number, number[]>()
    engine = await testEngine({
      components: {
        t: {
          flaky: (input: { n: number }, ctx: HandlerContext) => {
            calls.set(input.n, [...(calls.get(input.n) ?? []), ctx.attempt])
            if (input.n % 2 === 0 && ctx.attempt < 3) throw new Error('not yet')
            return { n: input.n, key: ctx.idempotencyKey.split(':').pop() }
          },
        },
      },
    })
    const { harmonia, clock } = engine
    const wf = await harmonia.createWorkflow({
      name: 'retry each',
      tasks: [
        {
          id: 'each',
          component: 't',
          action: 'flaky',
          for_each: [0, 1, 2],
          retry: { max_attempts: 3, initial_interval: 10, jitter: false },
          input: { n: '${item}' },
        },
      ],
    })
    const { execution_id } = await harmonia.startExecution({ workflow_id: wf.workflow_id })
    const events = await record(harmonia, execution_id)
    await until(() => events.filter((e) => e.type === 'task_retrying').length === 2)
    clock.increment(10_000)
    await until(() => events.filter((e) => e.type === 'task_retrying').length === 4)
    clock.increment(20_000)
    const done = await harmonia.waitForExecution(execution_id)
    expect(done.status).toBe('completed')
    expect(done.task_executions.each!.output).toEqual([
      { n: 0, key: '0' },
      { n: 1, key: '1' },
      { n: 2, key: '2' },
    ])
    expect(calls.get(0)).toEqual([1, 2, 3])
    expect(calls.get(1)).toEqual([1])
    expect(done.task_executions.each!.attempts).toBe(1)
    const retrying = events.filter((e) => e.type === 'task_retrying')
    expect(retrying.map((e) => [e.data.index, e.data.attempt, e.data.delay_ms])).toEqual([
      [0, 1, 10_000],
      [2, 1, 10_000],
      [0, 2, 20_000],
      [2, 2, 20_000],
    ])
  })

  it('refuses more than 10,000 elements and a for_each that is not a list, when the task starts', async () => {
    engine = await testEngine()
    const { harmonia } = engine
    const wf = await harmonia.createWorkflow({
      name: 'too big',
      input: { list: {} },
      tasks: [{ id: 'each', component: 'harmonia', action: 'echo', for_each: '${input.list}', input: { v: '${item}' } }],
    })
    const big = await harmonia.waitForExecution(
      (await harmonia.startExecution({ workflow_id: wf.workflow_id, input: { list: range(10_001) } })).execution_id,
    )
    expect(big.task_executions.each).toMatchObject({ status: 'failed', error: { code: 'fan_out_too_large' } })
    const notList = await harmonia.waitForExecution(
      (await harmonia.startExecution({ workflow_id: wf.workflow_id, input: { list: 'abc' } })).execution_id,
    )
    expect(notList.task_executions.each).toMatchObject({ status: 'failed', error: { code: 'for_each_not_a_list' } })
    const empty = await harmonia.waitForExecution(
      (await harmonia.startExecution({ workflow_id: wf.workflow_id, input: { list: [] } })).execution_id,
    )
    expect(empty).toMatchObject({ status: 'completed', task_executions: { each: { output: [], items: { total: 0 } } } })
  })

  it('item and index are refused outside a fan-out; for_each must be an expression or a list', async () => {
    engine = await testEngine()
    const { harmonia } = engine
    const refused = async (tasks: unknown[]) => {
      try {
        await harmonia.createWorkflow({ name: 'bad', tasks })
      } catch (error) {
        return (error as { errors: Array<{ path: string }> }).errors.map((e) => e.path)
      }
      throw new Error('accepted')
    }
    expect(await refused([{ id: 'a', component: 'harmonia', action: 'echo', input: { v: '${item}' } }])).toEqual(['tasks[0].input'])
    expect(await refused([{ id: 'a', component: 'harmonia', action: 'echo', for_each: 'abc', input: {} }])).toEqual(['tasks[0].for_each'])
    expect(await refused([{ id: 'a', component: 'harmonia', action: 'echo', for_each: [1], when: '${item > 0}', input: {} }])).toEqual([
      'tasks[0].when',
    ])
    expect(await refused([{ id: 'a', component: 'harmonia', action: 'echo', for_each: [1], for_each_concurrency: 0, input: {} }])).toEqual([
      'tasks[0].for_each_concurrency',
    ])
  })

  it('runs a sub-workflow per element, each linked to its element', async () => {
    engine = await testEngine()
    const { harmonia } = engine
    const child = await harmonia.createWorkflow({
      name: 'child',
      input: { n: { type: 'integer', required: true } },
      tasks: [{ id: 'double', component: 'harmonia', action: 'echo', input: { v: '${input.n * 2}' } }],
      output: { v: '${tasks.double.output.v}' },
    })
    const wf = await harmonia.createWorkflow({
      name: 'children',
      tasks: [
        {
          id: 'each',
          component: 'harmonia',
          action: 'run_workflow',
          for_each: [1, 2, 3],
          input: { workflow_id: child.workflow_id, input: { n: '${item}' } },
        },
      ],
    })
    const { execution_id } = await harmonia.startExecution({ workflow_id: wf.workflow_id })
    const done = await harmonia.waitForExecution(execution_id)
    expect(done.status).toBe('completed')
    expect(done.task_executions.each!.output).toEqual([{ v: 2 }, { v: 4 }, { v: 6 }])
    const { items } = await harmonia.listExecutions({ workflow_id: child.workflow_id, limit: 10 })
    expect(items).toHaveLength(3)
    const links = items.map((e) => e.parent).sort((a, b) => a!.index! - b!.index!)
    expect(links).toEqual([0, 1, 2].map((index) => ({ execution_id, task_id: 'each', index })))
  })

  it('pause and cancel of the parent reach every element child', async () => {
    engine = await testEngine()
    const { harmonia } = engine
    const child = await harmonia.createWorkflow({
      name: 'waiting child',
      tasks: [{ id: 'gate', component: 'harmonia', action: 'wait_for_signal', input: { name: 'go' } }],
    })
    const wf = await harmonia.createWorkflow({
      name: 'parent of many',
      tasks: [{ id: 'each', component: 'harmonia', action: 'run_workflow', for_each: [1, 2], input: { workflow_id: child.workflow_id } }],
    })
    const { execution_id } = await harmonia.startExecution({ workflow_id: wf.workflow_id })
    const kids = async () => (await harmonia.listExecutions({ workflow_id: child.workflow_id, limit: 10 })).items
    await until(async () => (await kids()).length === 2, 'two children')
    await harmonia.pauseExecution(execution_id)
    await until(async () => (await kids()).every((k) => k.status === 'paused'), 'children paused')
    await harmonia.resumeExecution(execution_id)
    await until(async () => (await kids()).every((k) => k.status === 'running'), 'children resumed')
    await harmonia.cancelExecution(execution_id)
    await until(async () => (await kids()).every((k) => k.status === 'canceled'), 'children canceled')
    expect((await harmonia.waitForExecution(execution_id)).status).toBe('canceled')
  })
})
