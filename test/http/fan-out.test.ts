import { afterEach, expect, it } from 'vitest'
import type { HandlerContext } from '../../src/components/handler.js'
import { createHarmonia, type Harmonia } from '../../src/harmonia.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { apiClient } from '../support/api.js'
import { deferred, until } from '../support/async.js'
import { describeEachStore, testStore } from '../support/harness.js'

/** Fan-out through the HTTP API (API.md "Fan-out"): progress counts, element events, pause and cancel. */

let server: RunningServer | undefined
let harmonia: Harmonia | undefined
afterEach(async () => {
  await server?.close()
  await harmonia?.close()
  server = harmonia = undefined
})

async function serve(components: Record<string, Record<string, (input: any, ctx: HandlerContext) => unknown>>) {
  harmonia = await createHarmonia({ store: testStore(), recover: false, components, strictComponents: false })
  server = await startServer({ harmonia, port: 0, hostname: '127.0.0.1', tokens: [] })
  return apiClient(() => server!.url)
}

describeEachStore('fan-out over HTTP', () => {
  it('shows items counts while it runs, element events carry data.index, output in order', async () => {
    const release = deferred<void>()
    let started = 0
    const call = await serve({
      t: {
        slow: async (input: { n: number }) => {
          started++
          if (input.n >= 2) await release.promise
          return input.n + 100
        },
      },
    })
    const wf = await call('POST', '/api/workflows', {
      name: 'fan',
      tasks: [{ id: 'each', component: 't', action: 'slow', for_each: '${input.list}', for_each_concurrency: 3, input: { n: '${item}' } }],
    })
    expect(wf.status).toBe(201)
    expect(wf.body.tasks[0]).toMatchObject({ for_each: '${input.list}', for_each_concurrency: 3 })
    const started201 = await call('POST', '/api/executions', { workflow_id: wf.body.workflow_id, input: { list: [0, 1, 2, 3, 4] } })
    expect(started201.status).toBe(201)
    const id = started201.body.execution_id as string
    // Elements 0 and 1 end at once, 2–4 wait: the counts settle at 2 completed and 3 in flight (elements that started
    // and wait for the execution's creating commit count as running before that).
    await until(async () => {
      const items = (await call('GET', `/api/executions/${id}`)).body.task_executions.each.items
      return items?.running === 3 && items?.completed === 2
    }, 'two done, three in flight')
    const mid = (await call('GET', `/api/executions/${id}`)).body
    expect(mid.task_executions.each).toMatchObject({ status: 'running', items: { total: 5, completed: 2, failed: 0, running: 3 } })
    expect(started).toBe(5)
    release.resolve()
    await until(async () => (await call('GET', `/api/executions/${id}`)).body.status === 'completed', 'completion')
    const done = (await call('GET', `/api/executions/${id}`)).body
    expect(done.task_executions.each.output).toEqual([100, 101, 102, 103, 104])
    const history = (await call('GET', `/api/executions/${id}/history`)).body as { events: Array<{ type: string; data: any }> }
    const indexed = history.events.filter((e) => e.data?.index !== undefined)
    expect(indexed.filter((e) => e.type === 'task_started')).toHaveLength(5)
    expect(
      indexed
        .filter((e) => e.type === 'task_completed')
        .map((e) => e.data.index as number)
        .sort(),
    ).toEqual([0, 1, 2, 3, 4])
  })

  it('pause holds the next elements, resume runs them; cancel stops the fan-out', async () => {
    const gates = new Map<number, ReturnType<typeof deferred<void>>>()
    const gate = (n: number) => {
      if (!gates.has(n)) gates.set(n, deferred<void>())
      return gates.get(n)!
    }
    const calls: number[] = []
    const call = await serve({
      t: {
        held: async (input: { n: number }, ctx) => {
          calls.push(input.n)
          await Promise.race([
            gate(input.n).promise,
            new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))),
          ])
          return input.n
        },
      },
    })
    const wf = await call('POST', '/api/workflows', {
      name: 'pausable',
      tasks: [{ id: 'each', component: 't', action: 'held', for_each: [0, 1, 2, 3], for_each_concurrency: 1, input: { n: '${item}' } }],
    })
    const id = (await call('POST', '/api/executions', { workflow_id: wf.body.workflow_id })).body.execution_id as string
    await until(() => calls.length === 1, 'element 0 running')
    expect((await call('POST', `/api/executions/${id}/pause`)).status).toBe(202)
    gate(0).resolve()
    await until(async () => (await call('GET', `/api/executions/${id}`)).body.task_executions.each.items?.completed === 1, 'element 0 done')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(calls).toEqual([0])
    expect((await call('POST', `/api/executions/${id}/resume`)).status).toBe(202)
    await until(() => calls.length === 2, 'element 1 running after resume')
    expect((await call('POST', `/api/executions/${id}/cancel`)).status).toBe(202)
    await until(async () => (await call('GET', `/api/executions/${id}`)).body.status === 'canceled', 'canceled')
    const canceled = (await call('GET', `/api/executions/${id}`)).body
    expect(canceled.task_executions.each.status).toBe('canceled')
    expect(calls).toEqual([0, 1])
  })

  it('bad fan-out fields are 422 naming the field', async () => {
    const call = await serve({})
    const bad = await call('POST', '/api/workflows', {
      name: 'bad',
      tasks: [
        { id: 'a', component: 'harmonia', action: 'echo', for_each: 42, input: {} },
        { id: 'b', component: 'harmonia', action: 'echo', for_each: [1], continue_on_error: 'yes', input: {} },
        { id: 'c', component: 'harmonia', action: 'echo', input: { v: '${index}' } },
      ],
    })
    expect(bad.status).toBe(422)
    expect(bad.type).toContain('application/problem+json')
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'tasks[0].for_each',
      'tasks[1].continue_on_error',
      'tasks[2].input',
    ])
  })
})
