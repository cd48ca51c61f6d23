import { afterAll, describe, expect, it } from 'vitest'
import { chain, createCluster, createWorkflow, eventually, postgresDriver, startExecution, type TestCluster } from '../support/cluster.js'
import { request, stop } from '../support/processes.js'

/**
 * A rolling restart (API.md "Several nodes"): the new node B starts while A runs; B takes nothing A holds; SIGTERM
 * makes A finish the attempts in flight, start no more, and release its leases, so B takes over at once — and no
 * handler runs twice.
 */
describe.skipIf(postgresDriver.skip)('rolling restart', () => {
  let cluster: TestCluster
  afterAll(async () => cluster?.dispose())

  it('50 executions of 10 tasks on A; B starts mid-run, then A gets SIGTERM → all complete, no handler twice, B took over only at the release', async () => {
    cluster = await createCluster()
    const a = await cluster.start('a')
    const workflow = await createWorkflow(a.url, chain('rolling', 10, 1000))
    const ids: string[] = []
    for (let i = 0; i < 50; i++) ids.push(await startExecution(a.url, workflow))
    // Mid-run: some tasks done, most not.
    await eventually(async () => cluster.calls().length >= 50, 'a first share of the tasks ran on A')
    const b = await cluster.start('b')
    // B is up and claiming; A's leases are valid, so B takes none of them.
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const nodes = (await request(`${b.url}/api/nodes`)).body as Array<{ node_id: string; executions_owned: number }>
    expect(nodes.find((n) => n.node_id === 'b')?.executions_owned).toBe(0)
    expect(cluster.calls().filter((c) => c.node === 'b')).toEqual([])
    const beforeTerm = cluster.calls().length
    expect(beforeTerm).toBeLessThan(500)

    expect(await stop(a.child, 'SIGTERM')).toBe(0)
    for (const id of ids) {
      await eventually(async () => (await request(`${b.url}/api/executions/${id}`)).body.status === 'completed', `${id} completed`, 180_000)
    }
    const calls = cluster.calls()
    const perTask = new Map<string, number>()
    for (const call of calls) perTask.set(`${call.execution} ${call.task}`, (perTask.get(`${call.execution} ${call.task}`) ?? 0) + 1)
    expect([...perTask.values()].filter((n) => n > 1)).toEqual([])
    expect(perTask.size).toBe(500)
    // B ran what A left.
    expect(calls.filter((c) => c.node === 'b').length).toBe(500 - calls.filter((c) => c.node === 'a').length)
    expect(calls.filter((c) => c.node === 'b').length).toBeGreaterThan(0)
    for (const id of ids) {
      const done = (await request(`${b.url}/api/executions/${id}`)).body
      expect(done.task_executions.t10.output).toEqual({ value: 10 })
    }
  }, 400_000)
})
