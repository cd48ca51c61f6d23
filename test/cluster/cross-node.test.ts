import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ExecutionEvent } from '../../src/model/events.js'
import {
  chain,
  createCluster,
  createWorkflow,
  eventually,
  postgresDriver,
  startExecution,
  type ClusterNode,
  type TestCluster,
} from '../support/cluster.js'
import { request } from '../support/processes.js'
import { readSse } from '../support/sse.js'

/**
 * API.md "Several nodes": any node accepts any request. Three real nodes on one database; the execution runs on A,
 * commands and streams go to B and C. Run with notifications (NOTIFY wakes the owner) and without (polling alone, as
 * behind a proxy that drops LISTEN): the same answers, only slower.
 */

const events = async (node: ClusterNode, id: string): Promise<ExecutionEvent[]> =>
  (await request(`${node.url}/api/executions/${id}/history`)).body.events as ExecutionEvent[]
const status = async (node: ClusterNode, id: string): Promise<string> => (await request(`${node.url}/api/executions/${id}`)).body.status

describe.skipIf(postgresDriver.skip).each(['on', 'off'])('cross-node commands and events (notifications %s)', (notifications) => {
  let cluster: TestCluster
  let a: ClusterNode, b: ClusterNode, c: ClusterNode
  let slow: string
  beforeAll(async () => {
    cluster = await createCluster({ HARMONIA_NOTIFICATIONS: notifications })
    a = await cluster.start('a')
    ;[b, c] = await Promise.all([cluster.start('b'), cluster.start('c')])
    slow = await createWorkflow(a.url, chain(`slow-${notifications}`, 8, 250))
  }, 240_000)
  afterAll(async () => cluster?.dispose())

  /** An execution started on A (so A holds it), with its first task running. */
  async function runningOnA(): Promise<string> {
    const id = await startExecution(a.url, slow)
    await eventually(async () => (await events(a, id)).some((e) => e.type === 'task_started'), 'the first task started')
    const owners = await request(`${a.url}/api/nodes`)
    expect(owners.body.find((n: { node_id: string }) => n.node_id === 'a').executions_owned).toBeGreaterThan(0)
    return id
  }

  it('pause on B holds A’s execution: paused when the answer comes, no task starts after, resume on C finishes it', async () => {
    const id = await runningOnA()
    const paused = await request(`${b.url}/api/executions/${id}/pause`, { method: 'POST' })
    expect(paused.status).toBe(202)
    expect(paused.body.status).toBe('paused')
    // The answer comes once the owner applied it: every node reads it paused already.
    expect(await status(c, id)).toBe('paused')
    const atPause = await events(c, id)
    const pausedAt = atPause.findIndex((e) => e.type === 'workflow_paused')
    expect(pausedAt).toBeGreaterThan(0)
    // Longer than a task (250 ms): the attempt in flight ends, nothing new starts.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const later = await events(c, id)
    expect(later.slice(pausedAt).filter((e) => e.type === 'task_started')).toEqual([])
    expect(await status(a, id)).toBe('paused')

    const resumed = await request(`${c.url}/api/executions/${id}/resume`, { method: 'POST' })
    expect(resumed.status).toBe(202)
    expect(resumed.body.status).toBe('running')
    await eventually(async () => (await status(b, id)) === 'completed', 'the resumed execution completed', 60_000)
    // Pausing a finished one on B: the same 409 as on the owner.
    const again = await request(`${b.url}/api/executions/${id}/pause`, { method: 'POST' })
    expect(again.status).toBe(409)
    expect(again.body.detail).toContain('completed')
  }, 180_000)

  it('cancel on C cancels A’s execution; a second pause on B of a paused one is 409, as on the owner', async () => {
    const id = await runningOnA()
    expect((await request(`${b.url}/api/executions/${id}/pause`, { method: 'POST' })).status).toBe(202)
    const twice = await request(`${b.url}/api/executions/${id}/pause`, { method: 'POST' })
    expect(twice.status).toBe(409)
    expect(twice.body.detail).toContain('paused')
    const canceled = await request(`${c.url}/api/executions/${id}/cancel`, { method: 'POST' })
    expect(canceled.status).toBe(202)
    expect(canceled.body.status).toBe('canceled')
    expect(await status(a, id)).toBe('canceled')
    const kinds = (await events(b, id)).map((e) => e.type)
    expect(kinds.at(-1)).toBe('workflow_canceled')
  }, 180_000)

  it('state saved on B is what A’s next task sees', async () => {
    const workflow = await createWorkflow(a.url, {
      name: `state-${notifications}`,
      tasks: [
        { id: 'first', component: 'rec', action: 'work', input: { ms: 1500 } },
        { id: 'next', component: 'rec', action: 'echo', depends_on: ['first'], input: { seen: '${state.greeting}' } },
      ],
    })
    const id = await startExecution(a.url, workflow)
    await eventually(async () => (await events(a, id)).some((e) => e.type === 'task_started'), 'first started')
    const saved = await request(`${b.url}/api/state/${id}`, { method: 'PUT', body: { state: { greeting: 'hello from b' } } })
    expect(saved.status).toBe(200)
    expect(saved.body.state).toEqual({ greeting: 'hello from b' })
    await eventually(async () => (await status(c, id)) === 'completed', 'completed', 60_000)
    const done = await request(`${c.url}/api/executions/${id}`)
    expect(done.body.task_executions.next.output).toEqual({ seen: 'hello from b' })
    // Only A ran it.
    expect(
      new Set(
        cluster
          .calls()
          .filter((call) => call.execution === id)
          .map((call) => call.node),
      ),
    ).toEqual(new Set(['a']))
  }, 180_000)

  it('an SSE client on C gets A’s execution whole and in order; a reconnect to B with Last-Event-ID resumes exactly', async () => {
    const id = await startExecution(a.url, slow)
    const seen: ExecutionEvent[] = []
    const first = await fetch(`${c.url}/events/executions/${id}`)
    expect(first.headers.get('content-type')).toContain('text/event-stream')
    // Read live from C until the third task started, then drop the connection.
    await readSse(first, (e) => {
      seen.push(e.data)
      return e.data.type === 'task_started' && e.data.task_id === 't3'
    })
    const second = await fetch(`${b.url}/events/executions/${id}`, { headers: { 'Last-Event-ID': String(seen.at(-1)!.seq) } })
    expect(await readSse(second, (e) => void seen.push(e.data))).toBe('ended')
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1))
    expect(seen.at(-1)!.type).toBe('workflow_completed')
    expect(seen).toEqual(await events(a, id))
  }, 180_000)

  it('the all-executions stream of B sees executions A runs, live, in seq order per execution', async () => {
    const response = await fetch(`${b.url}/events/executions?workflow_id=${slow}`)
    const got: ExecutionEvent[] = []
    let id = ''
    const reading = readSse(response, (e) => {
      got.push(e.data)
      return e.data.execution_id === id && e.data.type === 'workflow_completed'
    })
    // The stream is live only: give it a moment to be in place before the execution starts.
    await new Promise((resolve) => setTimeout(resolve, 300))
    id = await startExecution(a.url, slow)
    await reading
    const mine = got.filter((e) => e.execution_id === id)
    expect(mine.map((e) => e.seq)).toEqual(mine.map((_, i) => i + 1))
    expect(mine).toEqual(await events(c, id))
  }, 180_000)

  it('a new version written on A is what B starts next (B’s cache of latest versions follows, within a second)', async () => {
    const workflow = await createWorkflow(a.url, chain(`versions-${notifications}`, 1, 1))
    // B reads (and keeps) version 1.
    expect((await request(`${b.url}/api/workflows/${workflow}`)).body.version).toBe(1)
    const updated = await request(`${a.url}/api/workflows/${workflow}`, { method: 'PUT', body: chain(`versions-${notifications}`, 2, 1) })
    expect(updated.body.version).toBe(2)
    await eventually(async () => (await request(`${b.url}/api/workflows/${workflow}`)).body.version === 2, 'B sees version 2', 10_000)
    const id = await startExecution(b.url, workflow)
    expect((await request(`${b.url}/api/executions/${id}`)).body.workflow_version).toBe(2)
  }, 60_000)

  it('a signal sent on B reaches the task of A’s execution that waits for it (delivered: true, as on the owner)', async () => {
    const workflow = await createWorkflow(a.url, {
      name: `signal-${notifications}`,
      tasks: [
        { id: 'approval', component: 'harmonia', action: 'wait_for_signal', input: { name: 'approved', timeout: 600 } },
        { id: 'after', component: 'rec', action: 'echo', depends_on: ['approval'], input: { by: '${tasks.approval.output.by}' } },
      ],
    })
    const id = await startExecution(a.url, workflow)
    await eventually(async () => (await events(a, id)).some((e) => e.type === 'task_started' && e.task_id === 'approval'), 'waiting')
    // The wait is registered once the attempt runs: a signal before that is kept (delivered: false) and taken all the same.
    const sent = await request(`${b.url}/api/executions/${id}/signals/approved`, { body: { payload: { by: 'ada' } } })
    expect(sent.status).toBe(202)
    expect(sent.body).toMatchObject({ execution_id: id, name: 'approved' })
    expect(typeof sent.body.delivered).toBe('boolean')
    await eventually(async () => (await status(c, id)) === 'completed', 'completed', 60_000)
    expect((await request(`${c.url}/api/executions/${id}`)).body.task_executions.after.output).toEqual({ by: 'ada' })
    // A finished execution refuses a signal on any node, as on the owner.
    expect((await request(`${b.url}/api/executions/${id}/signals/approved`, { body: {} })).status).toBe(409)
  }, 60_000)
})
