import { expect, it } from 'vitest'
import { SimulatedClock } from 'xstate'
import type { HandlerContext } from '../../src/components/handler.js'
import { describeEachStore, testStore } from '../support/harness.js'
import type { Store } from '../../src/db/store.js'
import { createHarmonia, type Harmonia, type HarmoniaOptions } from '../../src/harmonia.js'
import { deferred, until } from '../support/async.js'

/**
 * Restart in process: an engine is closed mid-run (its actors stop, nothing is settled), a new engine on the same store
 * recovers. The crash suite (test/recovery/crash.test.ts) does the same with SIGKILL on a real child process.
 */

type Calls = Array<{ task: string; attempt: number; key: string }>

function setup(store: Store = testStore()) {
  const clock = new SimulatedClock()
  clock.set(Date.parse('2026-01-01T00:00:00Z'))
  const calls: Calls = []
  const open = (components: HarmoniaOptions['components'] = {}) =>
    createHarmonia({ store, clock, random: () => 0.5, components: { ...components }, strictComponents: false })
  const note = (ctx: HandlerContext) => calls.push({ task: ctx.taskId, attempt: ctx.attempt, key: ctx.idempotencyKey })
  return { store, clock, calls, open, note }
}

async function restartable(h: Harmonia, executionId: string) {
  const events: number[] = []
  await h.subscribe(executionId, (e) => events.push(e.seq))
  return events
}

describeEachStore('restart recovery (in process)', () => {
  it('re-attempts a task that was running, with the same attempt and idempotency key; completed tasks never run again', async () => {
    const s = setup()
    const hang = deferred<never>()
    const a = await s.open({
      t: {
        ok: (_: unknown, ctx: HandlerContext) => (s.note(ctx), { ok: ctx.taskId }),
        hang: (_: unknown, ctx: HandlerContext) => (s.note(ctx), hang.promise),
      },
    })
    const wf = await a.createWorkflow({
      name: 'r',
      tasks: [
        { id: 'first', component: 't', action: 'ok' },
        { id: 'second', component: 't', action: 'hang', depends_on: ['first'] },
        { id: 'third', component: 't', action: 'ok', input: { from: '${tasks.first.output.ok}' }, depends_on: ['second'] },
      ],
    })
    const run = await a.startExecution({ workflow_id: wf.workflow_id })
    await until(() => s.calls.some((c) => c.task === 'second'), 'second running')
    await until(async () => (await a.getExecution(run.execution_id)).task_executions.second!.status === 'running', 'second stored running')
    await a.close()

    const b = await s.open({
      t: {
        ok: (_: unknown, ctx: HandlerContext) => (s.note(ctx), { ok: ctx.taskId }),
        hang: (_: unknown, ctx: HandlerContext) => (s.note(ctx), { late: true }),
      },
    })
    const done = await b.waitForExecution(run.execution_id)
    expect(done.status).toBe('completed')
    expect(s.calls.map((c) => `${c.task}#${c.attempt}`)).toEqual(['first#1', 'second#1', 'second#1', 'third#1'])
    expect(new Set(s.calls.filter((c) => c.task === 'second').map((c) => c.key))).toEqual(new Set([`${run.execution_id}:second`]))
    expect(done.task_executions.second).toMatchObject({ status: 'completed', attempts: 1, output: { late: true } })
    const seqs = (await b.getEvents(run.execution_id)).map((e) => e.seq)
    expect(seqs).toEqual(seqs.map((_, i) => i + 1))
    await b.close()
  })

  it('resumes a retry backoff with the time that remains, not from zero', async () => {
    const s = setup()
    const a = await s.open()
    const wf = await a.createWorkflow({
      name: 'b',
      tasks: [
        {
          id: 'f',
          component: 'harmonia',
          action: 'fail',
          input: { attempts: 1 },
          retry: { max_attempts: 3, initial_interval: 10, jitter: false },
        },
      ],
    })
    const run = await a.startExecution({ workflow_id: wf.workflow_id })
    await until(async () => (await a.getExecution(run.execution_id)).task_executions.f!.status === 'retrying', 'retrying stored')
    s.clock.increment(4_000)
    await a.close()

    const b = await s.open()
    const events = await restartable(b, run.execution_id)
    s.clock.increment(5_999)
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r))
    expect((await b.getExecution(run.execution_id)).task_executions.f!.status).toBe('retrying')
    s.clock.increment(1)
    const done = await b.waitForExecution(run.execution_id)
    expect(done.task_executions.f).toMatchObject({ status: 'completed', attempts: 2, output: { attempt: 2 } })
    expect(events.at(-1)).toBe((await b.getEvents(run.execution_id)).length)
    await b.close()
  })

  it('resumes harmonia.sleep with the time that remains', async () => {
    const s = setup()
    const a = await s.open()
    const wf = await a.createWorkflow({ name: 's', tasks: [{ id: 'z', component: 'harmonia', action: 'sleep', input: { seconds: 60 } }] })
    const run = await a.startExecution({ workflow_id: wf.workflow_id })
    await until(async () => (await a.getExecution(run.execution_id)).task_executions.z!.status === 'running', 'sleeping')
    // The sleep has registered its durable timer by now (the handler runs before the next commit): make it stored.
    await a.flush()
    s.clock.increment(45_000)
    await a.close()

    const b = await s.open()
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r))
    s.clock.increment(14_999)
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r))
    expect((await b.getExecution(run.execution_id)).status).toBe('running')
    s.clock.increment(1)
    const done = await b.waitForExecution(run.execution_id)
    expect(done.task_executions.z).toMatchObject({ status: 'completed', output: { slept: 60 } })
    await b.close()
  })

  it('a paused execution stays paused across a restart until resumed', async () => {
    const s = setup()
    const gate = deferred()
    const a = await s.open({ t: { wait: () => gate.promise.then(() => ({})) } })
    const wf = await a.createWorkflow({
      name: 'p',
      tasks: [
        { id: 'one', component: 'harmonia', action: 'noop' },
        { id: 'two', component: 't', action: 'wait', depends_on: ['one'] },
      ],
    })
    const run = await a.startExecution({ workflow_id: wf.workflow_id })
    await until(async () => (await a.getExecution(run.execution_id)).task_executions.one!.status === 'completed', 'one done')
    const paused = await a.pauseExecution(run.execution_id)
    expect(paused.status).toBe('paused')
    await a.close()

    gate.resolve()
    const b = await s.open({ t: { wait: () => ({ resumed: true }) } })
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r))
    const still = await b.getExecution(run.execution_id)
    expect(still.status).toBe('paused')
    await b.resumeExecution(run.execution_id)
    const done = await b.waitForExecution(run.execution_id)
    expect(done.status).toBe('completed')
    expect(done.task_executions.two!.output).toEqual({ resumed: true })
    await b.close()
  })

  it('re-arms the workflow timeout with the time that remains', async () => {
    const s = setup()
    const a = await s.open()
    const wf = await a.createWorkflow({
      name: 't',
      timeout: 100,
      tasks: [{ id: 'z', component: 'harmonia', action: 'sleep', input: { seconds: 1000 } }],
    })
    const run = await a.startExecution({ workflow_id: wf.workflow_id })
    await until(async () => (await a.getExecution(run.execution_id)).status === 'running', 'running')
    s.clock.increment(60_000)
    await a.close()
    const b = await s.open()
    s.clock.increment(39_999)
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r))
    expect((await b.getExecution(run.execution_id)).status).toBe('running')
    s.clock.increment(1)
    const done = await b.waitForExecution(run.execution_id)
    expect(done).toMatchObject({ status: 'failed', error: { code: 'timeout' } })
    await b.close()
  })
})
