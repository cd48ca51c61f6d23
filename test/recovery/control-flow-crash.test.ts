import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { until } from '../support/async.js'
import { drivers, type EmptyDatabase } from '../support/db.js'
import { cleanEnv, freePort, request, startNode, stop, stopAll, type Child } from '../support/processes.js'

/**
 * Control flow across SIGKILL, with the Harmonia server as a real child process (control-flow-child.ts: the server of
 * src/main.ts on a store that prints what each commit made durable), on PGlite and on Postgres. The server is killed
 * three times, at chosen moments, and restarted on the same database and port:
 *   1. frozen right after the parent task's child id was committed, before the child exists (plus an approval wait
 *      and a sleep until an ISO time, both in progress);
 *   2. right after the child execution was created;
 *   3. right after the parent task started (the child may or may not be linked yet).
 * Each time, after the restart there is exactly one execution whose parent is that task, and the parent completes
 * with the child's output; a parent recovered while its child waits cancels the child when it is canceled; the approval
 * completes with a signal sent after the restart; the sleep ends after its time.
 */

const CHILD = join(import.meta.dirname, 'control-flow-child.ts')

/** A child that waits for `go` and answers with its payload. */
const gated = {
  name: 'gated child',
  tasks: [
    { id: 'gate', component: 'harmonia', action: 'wait_for_signal', input: { name: 'go' } },
    { id: 'then', component: 'harmonia', action: 'echo', input: { got: '${tasks.gate.output}' }, depends_on: ['gate'] },
  ],
  output: { got: '${tasks.then.output.got}' },
}

for (const driver of drivers) {
  describe.skipIf(driver.skip)(`${driver.title}: control flow across SIGKILL`, { timeout: 120_000 }, () => {
    let database: EmptyDatabase
    let base = ''
    let port = 0
    let server: Child

    const api = (path: string, body?: unknown) => request(`${base}${path}`, body === undefined ? {} : { body })
    const get = async (id: string) => (await api(`/api/executions/${id}`)).body
    const signals = async (id: string) => (await api(`/api/executions/${id}/signals`)).body as any[]

    async function startHarmonia(extra: Record<string, string> = {}): Promise<Child> {
      const child = startNode(
        [CHILD],
        cleanEnv({
          HARMONIA_PORT: String(port),
          HARMONIA_LOG_LEVEL: 'error',
          ...(driver.name === 'pglite' ? { HARMONIA_DATA_DIR: database.location } : { DATABASE_URL: database.location }),
          ...extra,
        }),
      )
      await child.waitFor(/Harmonia listening on/, 'the Harmonia server to listen')
      return child
    }

    async function kill(): Promise<void> {
      expect(await stop(server, 'SIGKILL')).toBe(null)
    }

    async function create(workflow: Record<string, unknown>): Promise<string> {
      const created = await api('/api/workflows', workflow)
      expect(created.status, created.text).toBe(201)
      return created.body.workflow_id as string
    }

    async function start(workflowId: string): Promise<string> {
      const started = await api('/api/executions', { workflow_id: workflowId })
      expect(started.status, started.text).toBe(201)
      return started.body.execution_id as string
    }

    async function finished(id: string): Promise<any> {
      let execution: any
      await until(async () => !['pending', 'running', 'paused'].includes((execution = await get(id)).status), `${id} to finish`, 30_000)
      return execution
    }

    /** Every execution of the child workflow whose parent is `parentId`'s task `call`. */
    async function childrenOf(childWorkflow: string, parentId: string): Promise<any[]> {
      const { items } = (await api(`/api/executions?workflow_id=${childWorkflow}&limit=1000`)).body as { items: any[] }
      const full = await Promise.all(items.map((e) => get(e.execution_id as string)))
      return full.filter((e) => e.parent?.execution_id === parentId)
    }

    /**
     * After a restart: the parent's one child (which must come to exist and to wait), signalled, completes the parent
     * with its output; no second child ever appears.
     */
    async function expectOneChildCompletes(childWorkflow: string, parentId: string, payload: unknown): Promise<string> {
      await until(async () => (await childrenOf(childWorkflow, parentId)).length > 0, 'the child to exist', 30_000)
      const [child, ...others] = await childrenOf(childWorkflow, parentId)
      expect(others, 'a second child').toEqual([])
      expect(child.parent).toEqual({ execution_id: parentId, task_id: 'call' })
      await until(async () => (await signals(child.execution_id)).some((s) => s.waiting), 'the child to wait for go', 30_000)
      const sent = await api(`/api/executions/${child.execution_id}/signals/go`, { payload })
      expect(sent.status, sent.text).toBe(202)
      const done = await finished(parentId)
      expect(done.status, JSON.stringify(done)).toBe('completed')
      expect(done.output).toEqual({ result: { got: payload } })
      expect(done.task_executions.call.child_execution_id).toBe(child.execution_id)
      expect(await childrenOf(childWorkflow, parentId)).toHaveLength(1)
      const { events } = (await api(`/api/executions/${parentId}/history`)).body as { events: Array<{ seq: number }> }
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1))
      return child.execution_id as string
    }

    beforeAll(async () => {
      database = await driver.empty()
      port = await freePort()
      base = `http://127.0.0.1:${port}`
    })

    afterAll(async () => {
      await stopAll()
      await database?.dispose()
    })

    it('sub-workflow, approval and sleep until survive kills at each moment; one child per parent task', async () => {
      server = await startHarmonia({ CF_HANG_AFTER_LINK: '1' })
      const childWf = await create(gated)
      const parentWf = await create({
        name: 'parent',
        tasks: [{ id: 'call', component: 'harmonia', action: 'run_workflow', input: { workflow_id: childWf } }],
        output: { result: '${tasks.call.output}' },
      })
      const approval = await start(
        await create({
          name: 'approval',
          tasks: [{ id: 'approve', component: 'harmonia', action: 'wait_for_signal', input: { name: 'approved', timeout: 3600 } }],
          output: { by: '${tasks.approve.output.by}' },
        }),
      )
      await until(async () => (await signals(approval)).some((s) => s.waiting), 'the approval to wait')
      // Far enough ahead to still be sleeping at the first kill on a loaded machine; checked at the end of the test.
      const untilTime = new Date(Date.now() + 5000).toISOString()
      const sleeper = await start(
        await create({ name: 'until', tasks: [{ id: 'nap', component: 'harmonia', action: 'sleep', input: { until: untilTime } }] }),
      )
      await server.waitFor(new RegExp(`TIMER ${sleeper} sleep:nap`), 'the sleep timer to be stored')

      // 1. Frozen between recording the child id and creating the child.
      const first = await start(parentWf)
      const linked = await server.waitFor(new RegExp(`LINKED ${first} call (\\S+)\\n`), 'the child link to be stored')
      await server.waitFor(/HUNG/, 'the freeze')
      expect(server.output()).not.toMatch(new RegExp(`CREATED \\S+ parent ${first}`))
      expect((await get(sleeper)).status, 'the sleep still runs at the kill').toBe('running')
      await kill()

      server = await startHarmonia()
      expect((await get(approval)).task_executions.approve.status).toBe('running')
      await until(async () => (await signals(approval)).some((s) => s.waiting), 'the approval to wait again', 30_000)
      const approved = await api(`/api/executions/${approval}/signals/approved`, { payload: { by: 'grace' } })
      expect(approved.body).toEqual({ execution_id: approval, name: 'approved', delivered: true })
      expect(await finished(approval)).toMatchObject({ status: 'completed', output: { by: 'grace' } })
      expect(await signals(approval)).toEqual([{ name: 'approved', waiting: false, received: [{ by: 'grace' }] }])

      const firstChild = await expectOneChildCompletes(childWf, first, { life: 1 })
      expect(firstChild, 'the child got the id recorded before the kill').toBe(linked[1])

      // A parent whose child waits across the next kill: canceled after the restart, the child is canceled with it.
      const doomed = await start(parentWf)
      await until(async () => (await childrenOf(childWf, doomed)).length === 1, 'the doomed child')
      const [doomedChild] = await childrenOf(childWf, doomed)
      await until(async () => (await signals(doomedChild.execution_id)).some((s) => s.waiting), 'the doomed child to wait')

      // 2. Killed right after the child execution was created.
      const second = await start(parentWf)
      await server.waitFor(new RegExp(`CREATED \\S+ parent ${second}`), 'the child to be created')
      await kill()
      server = await startHarmonia()
      await expectOneChildCompletes(childWf, second, { life: 2 })
      expect((await api(`/api/executions/${doomed}/cancel`, {})).status).toBe(202)
      expect((await finished(doomedChild.execution_id)).status).toBe('canceled')
      expect((await finished(doomed)).status).toBe('canceled')
      expect(await childrenOf(childWf, doomed)).toHaveLength(1)

      // 3. Killed right after the parent task started.
      const third = await start(parentWf)
      await server.waitFor(new RegExp(`TASK ${third} call running`), 'the parent task to start')
      await kill()
      server = await startHarmonia()
      await expectOneChildCompletes(childWf, third, { life: 3 })

      // The sleep that was under way at the first kill ended at its time, not before.
      const slept = await finished(sleeper)
      expect(slept.task_executions.nap).toMatchObject({ status: 'completed', output: { until: untilTime } })
      expect(Date.parse(slept.end_time)).toBeGreaterThanOrEqual(Date.parse(untilTime))
      await stop(server, 'SIGTERM')
    })
  })
}
