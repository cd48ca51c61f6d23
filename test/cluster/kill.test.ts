import { isDeepStrictEqual } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { eventsOf, inBatches, logProblems, openDatabase, unfinished, unfinishedOwnedBy, type Database } from '../support/cluster-checks.js'
import { createCluster, createWorkflow, eventually, postgresDriver, startExecution, type TestCluster } from '../support/cluster.js'
import { request } from '../support/processes.js'

/**
 * "Kill" (API.md "Several nodes"): three nodes run a few hundred executions of a shape that has every kind of step
 * (a chain, a fan-out, a join of several upstream tasks, a retried task, a durable sleep); one node is SIGKILLed
 * while it holds a good share of them. The others take its executions over within lease + 5 s, and every execution
 * completes with the right output, each task and element completed exactly once, its event log gap-free.
 */

const LEASE_SECONDS = 5
const dep = (task: string) => `\${tasks.${task}.output.value}`

/** a → (b, c flaky) ; b → fan (for_each) ; c → nap (durable sleep) ; (b, c, nap, fan) → join → d. */
const torture = {
  name: 'torture',
  input: { list: { type: 'array', required: true } },
  tasks: [
    { id: 'a', component: 'rec', action: 'work', input: { ms: 500 } },
    { id: 'b', component: 'rec', action: 'work', depends_on: ['a'], input: { deps: [dep('a')], ms: 100 } },
    {
      id: 'c',
      component: 'rec',
      action: 'flaky',
      depends_on: ['a'],
      input: { deps: [dep('a')] },
      retry: { max_attempts: 3, initial_interval: 0.2, jitter: false },
    },
    { id: 'fan', component: 'rec', action: 'double', depends_on: ['b'], for_each: '${input.list}', input: { item: '${item}' } },
    { id: 'nap', component: 'rec', action: 'nap', depends_on: ['c'], input: { deps: [dep('c')], ms: 4000 } },
    {
      id: 'join',
      component: 'rec',
      action: 'work',
      depends_on: ['b', 'c', 'nap', 'fan'],
      input: { deps: [dep('b'), dep('c'), dep('nap'), '${tasks.fan.output[3]}'], ms: 100 },
    },
    { id: 'd', component: 'rec', action: 'work', depends_on: ['join'], input: { deps: [dep('join')], ms: 100 } },
  ],
  output: { result: dep('d'), fan: '${tasks.fan.output}' },
}
/** Execution k has list [1, 2, 3, k]: a = 1, b = c = 2, nap = 3, fan = [2, 4, 6, 2k], join = 8 + 2k, d = 9 + 2k. */
const listOf = (k: number) => [1, 2, 3, k]
const outputOf = (k: number) => ({ result: 9 + 2 * k, fan: [2, 4, 6, 2 * k] })
const COMPLETIONS = ['a', 'b', 'c', 'fan', 'fan[0]', 'fan[1]', 'fan[2]', 'fan[3]', 'nap', 'join', 'd']
/** Handler calls per task or element when nothing goes wrong (c fails its first attempt). */
const normalCalls = (task: string) => (task === 'c' ? 2 : 1)

describe.skipIf(postgresDriver.skip).each([
  { notifications: 'on', count: 300 },
  { notifications: 'off', count: 60 },
])('kill one node of three (notifications $notifications)', ({ notifications, count }) => {
  let cluster: TestCluster
  let sql: Database
  afterAll(async () => {
    await sql?.end()
    await cluster?.dispose()
  })

  it(`${count} executions complete exactly once after a SIGKILL, taken over within lease + 5 s`, async () => {
    cluster = await createCluster({
      HARMONIA_LEASE_SECONDS: String(LEASE_SECONDS),
      ...(notifications === 'off' ? { HARMONIA_NOTIFICATIONS: 'off' } : {}),
    })
    sql = openDatabase(cluster.database.location)
    const nodes = [await cluster.start('n1'), await cluster.start('n2'), await cluster.start('n3')]
    const [survivor, , victim] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]]
    const wf = await createWorkflow(survivor.url, torture)

    const startedAt = Date.now()
    // Spread across the nodes: each starts (and so holds) a third of them; the victim's third last, so that it still
    // holds most of them when it is killed (starting hundreds takes longer than running one).
    const nodeOf = (k: number) => (k <= (2 * count) / 3 ? nodes[k % 2]! : victim)
    const ids = await inBatches(
      Array.from({ length: count }, (_, i) => i + 1),
      12,
      (k) => startExecution(nodeOf(k).url, wf, { list: listOf(k) }),
    )
    const byId = new Map(ids.map((id, i) => [id, i + 1]))
    console.log(`kill (notifications ${notifications}): ${count} executions started in ${Date.now() - startedAt} ms`)

    // Kill when the victim holds a good share of the unfinished executions (not at the very start, not at the end).
    const share = Math.ceil(count / 6)
    let seen = ''
    const owned = await eventually(async () => {
      const listed = await request(`${survivor.url}/api/nodes`)
      const mine = (listed.body as Array<{ node_id: string; executions_owned: number }>).find((n) => n.node_id === victim.id)
      const calls = cluster.calls().filter((c) => c.node === victim.id).length
      seen = `${JSON.stringify(listed.body)}; victim calls ${calls}`
      return mine && mine.executions_owned >= share && calls >= share ? mine.executions_owned : undefined
    }, 'the victim to hold and run a good share').catch((error) => {
      throw new Error(`${error}; last seen: ${seen}`)
    })
    process.kill(victim.pid, 'SIGKILL')
    const killedAt = Date.now()
    await victim.child.exited

    // Takeover: no unfinished execution is still owned by the dead node.
    await eventually(async () => (await unfinishedOwnedBy(sql, victim.id)) === 0, 'the dead node to own nothing', 300_000)
    const takeoverMs = Date.now() - killedAt
    console.log(`kill (notifications ${notifications}): the victim held ${owned}; taken over in ${takeoverMs} ms`)

    await eventually(async () => (await unfinished(sql, ids)).length === 0, `all ${count} executions finished`, 600_000)
    console.log(`kill (notifications ${notifications}): all finished ${Date.now() - killedAt} ms after the kill`)

    const problems: string[] = []
    await inBatches(ids, 10, async (id) => {
      const k = byId.get(id)!
      const execution = await request(`${survivor.url}/api/executions/${id}`)
      if (execution.body.status !== 'completed') problems.push(`${id}: ${execution.body.status} ${JSON.stringify(execution.body.error)}`)
      else if (!isDeepStrictEqual(execution.body.output, outputOf(k))) {
        problems.push(`${id}: output ${JSON.stringify(execution.body.output)}, expected ${JSON.stringify(outputOf(k))}`)
      }
      for (const problem of logProblems(await eventsOf(survivor.url, id), COMPLETIONS)) problems.push(`${id}: ${problem}`)
    })
    // The handlers: at most one more call per task or element than a run without a kill (the attempt in flight).
    const calls = new Map<string, number>()
    for (const c of cluster.calls()) {
      const key = `${c.execution} ${c.task} ${c.index}`
      calls.set(key, (calls.get(key) ?? 0) + 1)
    }
    for (const [key, n] of calls) if (n > normalCalls(key.split(' ')[1]!) + 1) problems.push(`${key}: called ${n} times`)
    expect(problems.slice(0, 30)).toEqual([])
    expect(takeoverMs).toBeLessThanOrEqual((LEASE_SECONDS + 5) * 1000)
  }, 1_200_000)
})
