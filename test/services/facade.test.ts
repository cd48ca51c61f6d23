import { afterEach, describe, expect, it } from 'vitest'
import { ConflictError, NotFoundError, ValidationError } from '../../src/errors.js'
import { deferred, testEngine, until, type TestEngine, describeEachStore } from '../support/harness.js'

let engine: TestEngine | undefined
afterEach(async () => {
  await engine?.harmonia.close()
  engine = undefined
})

describeEachStore('facade', () => {
  describe('workflows through the facade', () => {
    it('creates, gets, lists, updates (new version) and deletes', async () => {
      engine = await testEngine()
      const { harmonia } = engine
      const created = await harmonia.createWorkflow({
        name: 'alpha report',
        description: 'd',
        tasks: { first: { component: 'harmonia', action: 'noop' } },
        metadata: { team: 'x' },
      })
      expect(created).toMatchObject({
        name: 'alpha report',
        description: 'd',
        version: 1,
        metadata: { team: 'x' },
        max_concurrency: 10,
        timeout: null,
        fail_fast: false,
        tasks: [{ id: 'first', component: 'harmonia', action: 'noop', depends_on: [], input: {} }],
      })
      expect(created.created_at).toMatch(/Z$/)
      await harmonia.createWorkflow({ name: 'beta', tasks: [{ id: 'a', component: 'harmonia', action: 'noop' }] })

      expect(await harmonia.getWorkflow(created.workflow_id)).toEqual(created)
      const list = await harmonia.listWorkflows({ filter: 'alpha' })
      expect(list).toMatchObject({ total: 1, limit: 50, offset: 0 })
      expect(list.items.map((w) => w.name)).toEqual(['alpha report'])
      expect((await harmonia.listWorkflows({ limit: 1, offset: 1 })).items).toHaveLength(1)
      await expect(harmonia.listWorkflows({ limit: 0 })).rejects.toBeInstanceOf(ValidationError)

      const updated = await harmonia.updateWorkflow(created.workflow_id, {
        name: 'alpha report',
        tasks: [{ id: 'second', component: 'harmonia', action: 'echo', input: { v: 2 } }],
      })
      expect(updated.version).toBe(2)
      expect(updated.created_at).toBe(created.created_at)
      expect((await harmonia.getWorkflow(created.workflow_id)).tasks[0]!.id).toBe('second')
      expect((await harmonia.getWorkflow(created.workflow_id, { version: 1 })).tasks[0]!.id).toBe('first')
      const partial = await harmonia.updateWorkflow(created.workflow_id, { description: 'only this changes' })
      expect(partial).toMatchObject({ version: 3, name: 'alpha report', description: 'only this changes', tasks: [{ id: 'second' }] })

      await harmonia.deleteWorkflow(created.workflow_id)
      await expect(harmonia.getWorkflow(created.workflow_id)).rejects.toBeInstanceOf(NotFoundError)
    })

    it('an execution pins the version it started with; delete is refused while it runs', async () => {
      const gate = deferred()
      engine = await testEngine({ components: { t: { wait: () => gate.promise.then(() => ({ v: 1 })), quick: () => ({ v: 2 }) } } })
      const { harmonia } = engine
      const wf = await harmonia.createWorkflow({ name: 'p', tasks: [{ id: 'a', component: 't', action: 'wait' }] })
      const run = await harmonia.startExecution({ workflow_id: wf.workflow_id })
      await harmonia.updateWorkflow(wf.workflow_id, { name: 'p', tasks: [{ id: 'b', component: 't', action: 'quick' }] })
      await expect(harmonia.deleteWorkflow(wf.workflow_id)).rejects.toBeInstanceOf(ConflictError)
      gate.resolve()
      const done = await harmonia.waitForExecution(run.execution_id)
      expect(done).toMatchObject({ workflow_version: 1, status: 'completed' })
      expect(Object.keys(done.task_executions)).toEqual(['a'])
      const second = await harmonia.waitForExecution((await harmonia.startExecution({ workflow_id: wf.workflow_id })).execution_id)
      expect(second).toMatchObject({ workflow_version: 2, task_executions: { b: { output: { v: 2 } } } })
      const old = await harmonia.waitForExecution((await harmonia.startExecution({ workflow_id: wf.workflow_id, version: 1 })).execution_id)
      expect(old.workflow_version).toBe(1)
      await harmonia.deleteWorkflow(wf.workflow_id)
    })

    it('unknown and malformed ids are not found', async () => {
      engine = await testEngine()
      await expect(engine.harmonia.getWorkflow('nope')).rejects.toBeInstanceOf(NotFoundError)
      await expect(engine.harmonia.getExecution('01234567-89ab-7def-8123-456789abcdef')).rejects.toBeInstanceOf(NotFoundError)
      await expect(engine.harmonia.startExecution({ workflow_id: '01234567-89ab-7def-8123-456789abcdef' })).rejects.toBeInstanceOf(
        NotFoundError,
      )
    })
  })

  describe('executions through the facade', () => {
    it('checks input against the workflow input description, applying defaults', async () => {
      engine = await testEngine()
      const { harmonia } = engine
      const wf = await harmonia.createWorkflow({
        name: 'in',
        input: { n: { type: 'integer', required: true }, mode: { type: 'string', default: 'fast' } },
        tasks: [
          { id: 'e', component: 'harmonia', action: 'echo', input: { n: '${input.n}', mode: '${input.mode}', twice: '${input.n * 2}' } },
        ],
        output: { doubled: '${tasks.e.output.twice}' },
      })
      await expect(harmonia.startExecution({ workflow_id: wf.workflow_id, input: {} })).rejects.toMatchObject({
        errors: [{ path: 'input.n', message: expect.stringContaining('required') }],
      })
      await expect(harmonia.startExecution({ workflow_id: wf.workflow_id, input: { n: 1.5 } })).rejects.toMatchObject({
        errors: [{ path: 'input.n' }],
      })
      const run = await harmonia.startExecution({ workflow_id: wf.workflow_id, input: { n: 3 } })
      expect(run.input).toEqual({ n: 3, mode: 'fast' })
      const done = await harmonia.waitForExecution(run.execution_id)
      expect(done.task_executions.e!.output).toEqual({ n: 3, mode: 'fast', twice: 6 })
      expect(done.output).toEqual({ doubled: 6 })
    })

    it('lists executions with filters, newest first, without task_executions', async () => {
      engine = await testEngine()
      const { harmonia } = engine
      const ok = await harmonia.createWorkflow({ name: 'ok', tasks: [{ id: 'a', component: 'harmonia', action: 'noop' }] })
      const bad = await harmonia.createWorkflow({ name: 'bad', tasks: [{ id: 'a', component: 'harmonia', action: 'fail' }] })
      const e1 = await harmonia.startExecution({ workflow_id: ok.workflow_id })
      const e2 = await harmonia.startExecution({ workflow_id: bad.workflow_id })
      await harmonia.waitForExecution(e1.execution_id)
      await harmonia.waitForExecution(e2.execution_id)
      const mine = new Set([e1.execution_id, e2.execution_id])
      const all = await harmonia.listExecutions({ limit: 1000 })
      expect(all.items.map((e) => e.execution_id).filter((id) => mine.has(id))).toEqual([e2.execution_id, e1.execution_id])
      expect(all.total).toBeGreaterThanOrEqual(2)
      expect(all.items[0]).not.toHaveProperty('task_executions')
      expect((await harmonia.listExecutions({ status: 'failed' })).items.map((e) => e.execution_id)).toEqual([e2.execution_id])
      expect((await harmonia.listExecutions({ workflow_id: ok.workflow_id })).items.map((e) => e.execution_id)).toEqual([e1.execution_id])
    })

    it('enforces the per-process limit across executions', async () => {
      let inFlight = 0
      let peak = 0
      const release = deferred()
      engine = await testEngine({
        maxConcurrentTasks: 3,
        components: {
          t: {
            work: async () => {
              inFlight++
              peak = Math.max(peak, inFlight)
              await release.promise
              inFlight--
              return {}
            },
          },
        },
      })
      const { harmonia } = engine
      const tasks = Array.from({ length: 4 }, (_, i) => ({ id: `t${i}`, component: 't', action: 'work' }))
      const wf = await harmonia.createWorkflow({ name: 'wide', tasks })
      const runs = await Promise.all([1, 2, 3].map(() => harmonia.startExecution({ workflow_id: wf.workflow_id })))
      await until(() => inFlight === 3, 'three in flight')
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r))
      expect(inFlight).toBe(3)
      release.resolve()
      for (const r of runs) expect((await harmonia.waitForExecution(r.execution_id)).status).toBe('completed')
      expect(peak).toBe(3)
    })

    it('subscribe replays history after `after`, then streams live events exactly once', async () => {
      const gate = deferred()
      engine = await testEngine({ components: { t: { wait: () => gate.promise.then(() => ({})) } } })
      const { harmonia } = engine
      const wf = await harmonia.createWorkflow({
        name: 's',
        tasks: [
          { id: 'a', component: 'harmonia', action: 'noop' },
          { id: 'b', component: 't', action: 'wait', depends_on: ['a'] },
        ],
      })
      const run = await harmonia.startExecution({ workflow_id: wf.workflow_id })
      const early: number[] = []
      await harmonia.subscribe(run.execution_id, (e) => early.push(e.seq))
      await until(() => early.length >= 4, 'b started')
      const late: number[] = []
      await harmonia.subscribe(run.execution_id, (e) => late.push(e.seq), { after: 2 })
      gate.resolve()
      await harmonia.waitForExecution(run.execution_id)
      await until(() => late.length === 4, 'late stream complete')
      expect(early).toEqual([1, 2, 3, 4, 5, 6])
      expect(late).toEqual([3, 4, 5, 6])
    })
  })
})
