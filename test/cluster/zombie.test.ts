import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { eventsOf, inBatches, logProblems, openDatabase, unfinished, unfinishedOwnedBy, type Database } from '../support/cluster-checks.js'
import { chain, createCluster, createWorkflow, eventually, postgresDriver, startExecution, type TestCluster } from '../support/cluster.js'
import { request } from '../support/processes.js'

/**
 * "Zombie" (DESIGN.md "Never two owners"): node A is frozen (SIGSTOP) mid-run for longer than its lease, B takes its
 * executions over, then A wakes up (SIGCONT) still believing it owns them. A must write nothing for them: every
 * execution completes exactly once, and no handler runs twice but the one attempt that was in flight at the freeze.
 */

const LEASE_SECONDS = 5
const TASKS = 10
const COUNT = 20
const TASK_IDS = Array.from({ length: TASKS }, (_, i) => `t${i + 1}`)
/** A chain t1 → … → t10 of 300 ms each: tN's value is N, long enough to be caught mid-run. */
const workflow = { ...chain('zombie', TASKS, 300), output: { last: `\${tasks.t${TASKS}.output.value}` } }

/** The process's state letter in /proc (T: stopped), so the freeze is known to have happened. */
const procState = (pid: number) => /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1]

describe.skipIf(postgresDriver.skip)('a frozen node wakes up after its lease was taken over', () => {
  let cluster: TestCluster
  let sql: Database
  afterAll(async () => {
    await sql?.end()
    await cluster?.dispose()
  })

  it('writes nothing for the executions it lost; each completes exactly once', async () => {
    cluster = await createCluster({ HARMONIA_LEASE_SECONDS: String(LEASE_SECONDS) })
    sql = openDatabase(cluster.database.location)
    const a = await cluster.start('a')
    const b = await cluster.start('b')
    const wf = await createWorkflow(a.url, workflow)
    const ids = await inBatches(Array.from({ length: COUNT }), 10, () => startExecution(a.url, wf))

    // Mid-run on A: every execution has made a couple of calls there, none has finished.
    await eventually(async () => {
      const calls = cluster.calls().filter((c) => c.node === 'a')
      return ids.every((id) => calls.filter((c) => c.execution === id).length >= 2)
    }, 'every execution to be running on A')
    expect(await unfinishedOwnedBy(sql, 'a')).toBeGreaterThan(0)

    process.kill(a.pid, 'SIGSTOP')
    const stoppedAt = Date.now()
    await eventually(async () => procState(a.pid) === 'T', 'A to be stopped')
    const before = cluster.calls()
    const lost = await unfinished(sql, ids)
    const outputBefore = a.child.output().length
    // What A made durable before the freeze (a commit it sent may still land: that only adds to what B sees as done).
    const durable = new Set(
      (
        await sql`SELECT execution_id, task_id FROM task_executions
          WHERE execution_id = ANY(${lost}::uuid[]) AND status = 'completed'`
      ).map((r) => `${r.execution_id} ${r.task_id}`),
    )

    // Frozen past its lease (real time: this is what the test is about) and until B holds all A held.
    await eventually(
      async () => Date.now() - stoppedAt >= (LEASE_SECONDS + 4) * 1000 && (await unfinishedOwnedBy(sql, 'a')) === 0,
      'B to take over the executions of the frozen A',
    )
    const owners = await sql`SELECT DISTINCT owner FROM executions WHERE execution_id = ANY(${lost}::uuid[])
      AND status IN ('pending', 'running', 'paused')`
    expect(owners.map((o) => o.owner).filter((o) => o !== 'b')).toEqual([])
    process.kill(a.pid, 'SIGCONT')

    await eventually(async () => (await unfinished(sql, ids)).length === 0, `all ${COUNT} executions finished`, 300_000)
    // A noticed, and said so: its renewal came back without them, its give-up ran, or its fenced commit was refused.
    await eventually(
      async () => /stale write refused|lease lapsed|lease lost/.test(a.child.output().slice(outputBefore)),
      'A to log that it stopped the executions it lost',
    )
    const said = a.child.output().slice(outputBefore)
    console.log(
      `zombie: A said after waking up:\n${said
        .split('\n')
        .filter((l) => /stale|lapsed|lost/.test(l))
        .slice(0, 5)
        .join('\n')}`,
    )

    const problems: string[] = []
    await inBatches(ids, 10, async (id) => {
      const execution = await request(`${b.url}/api/executions/${id}`)
      if (execution.body.status !== 'completed') problems.push(`${id}: ${execution.body.status}`)
      else if (execution.body.output?.last !== TASKS) problems.push(`${id}: output ${JSON.stringify(execution.body.output)}`)
      for (const problem of logProblems(await eventsOf(b.url, id), TASK_IDS)) problems.push(`${id}: ${problem}`)
    })

    // Handler calls: A made none after it woke up; a task ran twice only when A had it in flight at the freeze (called
    // by A before it, not durably completed, then called once by B). A chain may have had two such tasks: a task's
    // completion is committed in the next group commit, and the next task starts before that commit lands.
    const after = cluster.calls()
    const fresh = after.slice(before.length)
    for (const c of fresh) if (c.node === 'a') problems.push(`A called ${c.execution} ${c.task} after waking up`)
    // Each call with its place in the log: below before.length, it was made before the freeze.
    const byTask = new Map<string, Array<(typeof after)[number] & { at: number }>>()
    after.forEach((c, at) => byTask.set(`${c.execution} ${c.task}`, [...(byTask.get(`${c.execution} ${c.task}`) ?? []), { ...c, at }]))
    let again = 0
    for (const [key, calls] of byTask) {
      if (calls.length === 1) continue
      again++
      const [first, second] = calls
      const inFlight = calls.length === 2 && first!.node === 'a' && first!.at < before.length && !durable.has(key) && second!.node === 'b'
      if (!inFlight) problems.push(`${key}: called ${calls.map((c) => `${c.node}#${c.attempt}`).join(', ')}`)
    }
    expect(problems.slice(0, 30)).toEqual([])
    console.log(`zombie: ${lost.length} executions lost by A; ${again} tasks in flight at the freeze ran again on B`)
  }, 600_000)
})
