import { afterEach, describe, expect, it } from 'vitest'
import type { HandlerContext } from '../../src/components/handler.js'
import { deferred, record, shape, testEngine, until, type TestEngine, describeEachStore, currentStoreKind } from '../support/harness.js'

let engine: TestEngine | undefined
afterEach(async () => {
  await engine?.harmonia.close()
  engine = undefined
})

describeEachStore('checkpoints, state, history', () => {
  describe('checkpoints, state, history', () => {
    it('restore from a checkpoint taken mid-run reruns only the unfinished tasks', async () => {
      const gate = deferred()
      const ran: string[] = []
      engine = await testEngine({
        components: {
          t: {
            step: (input: { n: number }, ctx: HandlerContext) => (ran.push(ctx.taskId), { n: input.n }),
            slow: async (_: unknown, ctx: HandlerContext) => {
              ran.push(ctx.taskId)
              await gate.promise
              return { slow: true }
            },
          },
        },
      })
      const { harmonia } = engine
      const wf = await harmonia.createWorkflow({
        name: 'cp',
        tasks: [
          { id: 'a', component: 't', action: 'step', input: { n: 1 } },
          { id: 'b', component: 't', action: 'slow', depends_on: ['a'] },
          { id: 'c', component: 't', action: 'step', input: { n: '${tasks.a.output.n + 1}' }, depends_on: ['b'] },
        ],
        output: { c: '${tasks.c.output.n}' },
      })
      const run = await harmonia.startExecution({ workflow_id: wf.workflow_id })
      await until(() => ran.includes('b'), 'b running')
      await harmonia.saveState(run.execution_id, { cursor: 7 })
      const checkpoint = await harmonia.createCheckpoint(run.execution_id)
      expect(checkpoint).toMatchObject({
        execution_id: run.execution_id,
        workflow_status: 'running',
        task_statuses: { a: 'completed', b: 'running', c: 'pending' },
        completed_tasks: ['a'],
        state_data: { cursor: 7 },
      })
      expect(checkpoint.checkpoint_id).toMatch(/^[0-9a-f-]{36}$/)
      expect(await harmonia.getCheckpoint(checkpoint.checkpoint_id)).toEqual(checkpoint)
      expect((await harmonia.listCheckpoints({ execution_id: run.execution_id })).items).toEqual([checkpoint])
      gate.resolve()
      await harmonia.waitForExecution(run.execution_id)

      ran.length = 0
      const restored = await harmonia.restoreFromCheckpoint(checkpoint.checkpoint_id)
      expect(restored.restored_from).toBe(checkpoint.checkpoint_id)
      expect(restored.task_executions.a).toMatchObject({ status: 'completed', output: { n: 1 } })
      const events = await record(harmonia, restored.execution_id)
      const done = await harmonia.waitForExecution(restored.execution_id)
      expect(ran).toEqual(['b', 'c'])
      expect(done).toMatchObject({ status: 'completed', output: { c: 2 } })
      expect(shape(events)).toEqual([
        'workflow_started',
        'task_started:b',
        'task_completed:b',
        'task_started:c',
        'task_completed:c',
        'workflow_completed',
      ])
      expect(events[0]!.seq).toBe(1)
      expect((await harmonia.loadState(restored.execution_id)).state).toEqual({ cursor: 7 })
    })

    it('state round-trips, is visible to expressions as `state`, and emits state_saved', async () => {
      const gate = deferred()
      engine = await testEngine({ components: { t: { wait: () => gate.promise.then(() => ({})) } } })
      const { harmonia } = engine
      const wf = await harmonia.createWorkflow({
        name: 'st',
        tasks: [
          { id: 'w', component: 't', action: 'wait' },
          { id: 'e', component: 'harmonia', action: 'echo', input: { user: '${state.user}', n: '${state.n * 2}' }, depends_on: ['w'] },
        ],
      })
      const run = await harmonia.startExecution({ workflow_id: wf.workflow_id })
      expect((await harmonia.loadState(run.execution_id)).state).toEqual({})
      const saved = await harmonia.saveState(run.execution_id, { user: 'ada', n: 21 })
      expect(saved).toMatchObject({ execution_id: run.execution_id, state: { user: 'ada', n: 21 } })
      expect(saved.updated_at).toMatch(/Z$/)
      expect(await harmonia.loadState(run.execution_id)).toEqual(saved)
      gate.resolve()
      const done = await harmonia.waitForExecution(run.execution_id)
      expect(done.task_executions.e!.output).toEqual({ user: 'ada', n: 42 })
      expect((await harmonia.getEvents(run.execution_id)).some((e) => e.type === 'state_saved')).toBe(true)
      await expect(harmonia.saveState(run.execution_id, [] as unknown as Record<string, unknown>)).rejects.toMatchObject({
        errors: [{ path: 'state' }],
      })
    })

    it('rerunFailed reruns only the failed and skipped tasks, keeping completed outputs', async () => {
      let healthy = false
      const ran: string[] = []
      engine = await testEngine({
        components: {
          t: {
            ok: (_: unknown, ctx: HandlerContext) => (ran.push(ctx.taskId), { from: ctx.taskId }),
            flaky: (_: unknown, ctx: HandlerContext) => {
              ran.push(ctx.taskId)
              if (!healthy) throw new Error('down')
              return { fixed: true }
            },
          },
        },
      })
      const { harmonia } = engine
      const wf = await harmonia.createWorkflow({
        name: 'rr',
        tasks: [
          { id: 'a', component: 't', action: 'ok' },
          { id: 'b', component: 't', action: 'flaky', depends_on: ['a'] },
          { id: 'c', component: 't', action: 'ok', depends_on: ['b'] },
          { id: 'd', component: 't', action: 'ok', depends_on: ['a'] },
        ],
      })
      const first = await harmonia.waitForExecution((await harmonia.startExecution({ workflow_id: wf.workflow_id })).execution_id)
      expect(first.status).toBe('failed')
      expect(Object.fromEntries(Object.entries(first.task_executions).map(([k, t]) => [k, t.status]))).toEqual({
        a: 'completed',
        b: 'failed',
        c: 'skipped',
        d: 'completed',
      })

      healthy = true
      ran.length = 0
      const rerun = await harmonia.rerunFailed(first.execution_id)
      expect(rerun.rerun_of).toBe(first.execution_id)
      const done = await harmonia.waitForExecution(rerun.execution_id)
      expect(done.status).toBe('completed')
      expect(ran.sort()).toEqual(['b', 'c'])
      expect(done.task_executions.a!.output).toEqual({ from: 'a' })
      await expect(harmonia.rerunFailed(done.execution_id)).rejects.toThrow(/cannot rerun execution .*: it is completed/)
    })

    it('history has the events, the checkpoints and metrics', async () => {
      engine = await testEngine()
      const { harmonia, clock } = engine
      const wf = await harmonia.createWorkflow({
        name: 'h',
        tasks: [
          { id: 'f', component: 'harmonia', action: 'fail', input: { attempts: 1 }, retry: { max_attempts: 2, jitter: false } },
          { id: 'n', component: 'harmonia', action: 'noop', depends_on: ['f'] },
        ],
      })
      const run = await harmonia.startExecution({ workflow_id: wf.workflow_id })
      const events = await record(harmonia, run.execution_id)
      await until(() => events.some((e) => e.type === 'task_retrying'), 'retrying')
      clock.increment(1000)
      await harmonia.waitForExecution(run.execution_id)
      const cp = await harmonia.createCheckpoint(run.execution_id)
      const history = await harmonia.getExecutionHistory(run.execution_id)
      expect(history.execution_id).toBe(run.execution_id)
      expect(history.events.map((e) => e.seq)).toEqual(events.map((e) => e.seq))
      expect(history.checkpoints).toEqual([cp])
      expect(history.metrics).toMatchObject({ duration_ms: 1000, total_tasks: 2, retries: 1, task_counts: { completed: 2, failed: 0 } })
      expect(history.metrics.task_durations).toEqual({ f: 1000, n: 0 })
    })

    it('retention deletes finished executions older than the configured age, with their rows', async () => {
      engine = await testEngine()
      const { harmonia } = engine
      const wf = await harmonia.createWorkflow({ name: 'old', tasks: [{ id: 'n', component: 'harmonia', action: 'noop' }] })
      const run = await harmonia.waitForExecution((await harmonia.startExecution({ workflow_id: wf.workflow_id })).execution_id)
      engine.clock.increment(2 * 86_400_000)
      const removed = await harmonia.purgeExecutions({ olderThanSeconds: 86_400 })
      expect(removed).toBeGreaterThanOrEqual(1) // other tests of the block share the database
      await expect(harmonia.getExecution(run.execution_id)).rejects.toMatchObject({ code: 'not_found' })
    })

    it('holds no actors for finished executions after 10,000 runs (300 on a database)', async () => {
      engine = await testEngine()
      const { harmonia } = engine
      const wf = await harmonia.createWorkflow({ name: 'many', tasks: [{ id: 'n', component: 'harmonia', action: 'noop' }] })
      const ids: string[] = []
      const runs = currentStoreKind() === 'memory' ? 10_000 : 300
      for (let i = 0; i < runs; i++) ids.push((await harmonia.startExecution({ workflow_id: wf.workflow_id })).execution_id)
      for (const id of ids) await harmonia.waitForExecution(id)
      await until(() => harmonia.activeExecutions === 0, 'all released')
      expect(harmonia.activeExecutions).toBe(0)
    })
  })
})
