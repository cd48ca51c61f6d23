import { afterAll, describe, expect, it } from 'vitest'
import { chain, createCluster, createWorkflow, eventually, postgresDriver, startExecution, type TestCluster } from '../support/cluster.js'
import { request } from '../support/processes.js'

describe.skipIf(postgresDriver.skip)('cluster smoke', () => {
  let cluster: TestCluster
  afterAll(async () => cluster?.dispose())
  it('two nodes run executions created on either, and list each other', async () => {
    cluster = await createCluster()
    const a = await cluster.start('a')
    const b = await cluster.start('b')
    const wf = await createWorkflow(a.url, chain('smoke', 3, 10))
    const ids = [await startExecution(a.url, wf), await startExecution(b.url, wf)]
    for (const id of ids) {
      await eventually(async () => (await request(`${b.url}/api/executions/${id}`)).body.status === 'completed', `${id} completed`)
    }
    const nodes = await request(`${a.url}/api/nodes`)
    expect(nodes.body.map((n: { node_id: string }) => n.node_id).sort()).toEqual(['a', 'b'])
    expect((await request(`${a.url}/health`)).body.node_id).toBe('a')
    expect(cluster.calls().length).toBe(6)
  }, 180_000)
})
