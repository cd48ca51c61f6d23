import { afterEach, describe, expect, it } from 'vitest'
import { TerminalTaskError } from '../../src/errors.js'
import type { HandlerContext } from '../../src/components/handler.js'
import type { ExecutionEvent } from '../../src/model/events.js'
import { deferred, record, shape, testEngine, until, type TestEngine, describeEachStore } from '../support/harness.js'

let engine: TestEngine | undefined
afterEach(async () => {
  await engine?.harmonia.close()
  engine = undefined
})

const wf = (tasks: unknown[], extra: Record<string, unknown> = {}) => ({ name: 'wf', tasks, ...extra })
const retrying = (events: ExecutionEvent[]) => events.filter((e) => e.type === 'task_retrying')

describeEachStore('engine', () => {
  describe('the seed client example, in process', () => {
    it('runs task1 then task2, and task2 receives task1.result with its JSON type', async () => {
      const received: unknown[] = []
      engine = await testEngine({
        components: {
          ergon: { execute_command: (input: { command: string }) => ({ result: { text: input.command.replace(/^echo /, ''), code: 0 } }) },
          prometheus: {
            analyze_results: (input: { data: unknown }) => {
              received.push(input.data)
              return { analyzed: true }
            },
          },
        },
      })
      const { harmonia } = engine
      const workflow = await harmonia.createWorkflow({
        name: 'example_workflow',
        description: 'Example workflow',
        tasks: [
          { id: 'task1', component: 'ergon', action: 'execute_command', input: { command: 'echo Hello World' } },
          {
            id: 'task2',
            component: 'prometheus',
            action: 'analyze_results',
            input: { data: '${tasks.task1.output.result}' },
            depends_on: ['task1'],
          },
        ],
      })
      expect(workflow.workflow_id).toMatch(/^[0-9a-f-]{36}$/)
      expect(workflow.version).toBe(1)
      const started = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      expect(['pending', 'running']).toContain(started.status)
      const events = await record(harmonia, started.execution_id)
      const done = await harmonia.waitForExecution(started.execution_id)

      expect(done.status).toBe('completed')
      expect(received).toEqual([{ text: 'Hello World', code: 0 }])
      expect(done.task_executions.task2!.input).toEqual({ data: { text: 'Hello World', code: 0 } })
      expect(done.task_executions.task1).toMatchObject({ status: 'completed', attempts: 1, retries: 0, error: null })
      expect(shape(events)).toEqual([
        'workflow_started',
        'task_started:task1',
        'task_completed:task1',
        'task_started:task2',
        'task_completed:task2',
        'workflow_completed',
      ])
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6])
      expect(events.every((e) => e.execution_id === started.execution_id && e.timestamp.endsWith('Z'))).toBe(true)
    })
  })

  describe('DAG scheduling', () => {
    it('runs the diamond a → (b, c) → d with b and c concurrently; d sees both outputs', async () => {
      const arrived: string[] = []
      const both = deferred()
      let dInput: unknown
      engine = await testEngine({
        components: {
          t: {
            a: () => ({ n: 1 }),
            branch: async (input: { name: string }) => {
              arrived.push(input.name)
              if (arrived.length === 2) both.resolve()
              await both.promise // only returns once both branches are in flight at the same time
              return { from: input.name }
            },
            d: (input: unknown) => {
              dInput = input
              return input
            },
          },
        },
      })
      const { harmonia } = engine
      const workflow = await harmonia.createWorkflow(
        wf([
          { id: 'a', component: 't', action: 'a' },
          { id: 'b', component: 't', action: 'branch', input: { name: 'b' }, depends_on: ['a'] },
          { id: 'c', component: 't', action: 'branch', input: { name: 'c' }, depends_on: ['a'] },
          { id: 'd', component: 't', action: 'd', input: { b: '${tasks.b.output}', c: '${tasks.c.output.from}' }, depends_on: ['b', 'c'] },
        ]),
      )
      const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      const done = await harmonia.waitForExecution(execution_id)
      expect(done.status).toBe('completed')
      expect(arrived.sort()).toEqual(['b', 'c'])
      expect(dInput).toEqual({ b: { from: 'b' }, c: 'c' })
    })

    it('respects max_concurrency', async () => {
      let inFlight = 0
      let peak = 0
      engine = await testEngine({
        components: {
          t: {
            work: async () => {
              inFlight++
              peak = Math.max(peak, inFlight)
              await new Promise((r) => setImmediate(r))
              inFlight--
              return {}
            },
          },
        },
      })
      const tasks = Array.from({ length: 12 }, (_, i) => ({ id: `t${i}`, component: 't', action: 'work' }))
      const workflow = await engine.harmonia.createWorkflow(wf(tasks, { max_concurrency: 3 }))
      const { execution_id } = await engine.harmonia.startExecution({ workflow_id: workflow.workflow_id })
      expect((await engine.harmonia.waitForExecution(execution_id)).status).toBe('completed')
      expect(peak).toBe(3)
    })

    it('a false `when` skips the task and its dependents still run; a failed upstream skips dependents', async () => {
      engine = await testEngine()
      const { harmonia } = engine
      const workflow = await harmonia.createWorkflow(
        wf([
          { id: 'gate', component: 'harmonia', action: 'noop', when: '${input.go == true}' },
          { id: 'after_gate', component: 'harmonia', action: 'echo', input: { ok: true }, depends_on: ['gate'] },
          { id: 'boom', component: 'harmonia', action: 'fail', input: { message: 'broken' } },
          { id: 'after_boom', component: 'harmonia', action: 'noop', depends_on: ['boom'] },
          { id: 'after_after', component: 'harmonia', action: 'noop', depends_on: ['after_boom'] },
        ]),
      )
      const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id, input: { go: false } })
      const done = await harmonia.waitForExecution(execution_id)
      const events = await harmonia.getEvents(execution_id)
      const t = done.task_executions
      expect(t.gate!.status).toBe('skipped')
      expect(t.after_gate).toMatchObject({ status: 'completed', output: { ok: true } })
      expect(t.boom).toMatchObject({ status: 'failed', error: { message: 'broken', retryable: true } })
      expect(t.after_boom!.status).toBe('skipped')
      expect(t.after_after!.status).toBe('skipped')
      expect(done.status).toBe('failed')
      const skips = events.filter((e) => e.type === 'task_skipped')
      expect(skips.find((e) => e.task_id === 'gate')!.data.reason).toBe('condition is false')
      expect(skips.find((e) => e.task_id === 'after_boom')!.data.reason).toBe('upstream task boom failed')
      expect(skips.find((e) => e.task_id === 'after_after')!.data.reason).toBe('upstream task after_boom was skipped')
    })
  })

  describe('retries', () => {
    it('harmonia.fail with attempts 2 and retry 3 completes on attempt 3; delays follow the policy within jitter bounds', async () => {
      engine = await testEngine({ random: () => 0.37 })
      const { harmonia, clock } = engine
      const workflow = await harmonia.createWorkflow(
        wf([
          {
            id: 'flaky',
            component: 'harmonia',
            action: 'fail',
            input: { attempts: 2, message: 'not yet' },
            retry: { max_attempts: 4, initial_interval: 2, backoff_coefficient: 3, max_interval: 100, jitter: true },
          },
        ]),
      )
      const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      const events = await record(harmonia, execution_id)
      await until(() => retrying(events).length === 1, 'first retry')
      const first = retrying(events)[0]!
      expect(first.data).toMatchObject({ attempt: 1, error: { message: 'not yet', retryable: true } })
      const d1 = first.data.delay_ms as number
      expect(d1).toBeGreaterThanOrEqual(0)
      expect(d1).toBeLessThanOrEqual(2000) // full jitter: [0, initial]
      clock.increment(d1 - 1)
      await new Promise((r) => setImmediate(r))
      expect(events.filter((e) => e.type === 'task_started')).toHaveLength(1) // not before the delay
      clock.increment(1)
      await until(() => retrying(events).length === 2, 'second retry')
      const d2 = retrying(events)[1]!.data.delay_ms as number
      expect(d2).toBeGreaterThanOrEqual(0)
      expect(d2).toBeLessThanOrEqual(6000) // [0, initial · coefficient]
      clock.increment(d2)
      const done = await harmonia.waitForExecution(execution_id)
      expect(done.status).toBe('completed')
      expect(done.task_executions.flaky).toMatchObject({ status: 'completed', attempts: 3, retries: 2, output: { attempt: 3 } })
      expect(shape(events)).toEqual([
        'workflow_started',
        'task_started:flaky',
        'task_retrying:flaky',
        'task_started:flaky',
        'task_retrying:flaky',
        'task_started:flaky',
        'task_completed:flaky',
        'workflow_completed',
      ])
      expect(events.filter((e) => e.type === 'task_started').map((e) => e.data.attempt)).toEqual([1, 2, 3])
    })

    it('retry: 3 as a number means three retries with the default policy, and no jitter draws exact delays', async () => {
      engine = await testEngine()
      const { harmonia, clock } = engine
      const workflow = await harmonia.createWorkflow(
        wf([{ id: 'f', component: 'harmonia', action: 'fail', input: { attempts: 2 }, retry: { max_attempts: 4, jitter: false } }]),
      )
      const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      const events = await record(harmonia, execution_id)
      await until(() => retrying(events).length === 1, 'retry 1')
      expect(retrying(events)[0]!.data.delay_ms).toBe(1000)
      clock.increment(1000)
      await until(() => retrying(events).length === 2, 'retry 2')
      expect(retrying(events)[1]!.data.delay_ms).toBe(2000)
      clock.increment(2000)
      expect((await harmonia.waitForExecution(execution_id)).task_executions.f!.attempts).toBe(3)

      const numeric = await harmonia.createWorkflow(wf([{ id: 'f', component: 'harmonia', action: 'fail', retry: 3 }]))
      const run = await harmonia.startExecution({ workflow_id: numeric.workflow_id })
      const ev2 = await record(harmonia, run.execution_id)
      for (let n = 1; n <= 3; n++) {
        await until(() => retrying(ev2).length === n, `retry ${n}`)
        clock.increment(60_000)
      }
      const failed = await harmonia.waitForExecution(run.execution_id)
      expect(failed.task_executions.f).toMatchObject({ status: 'failed', attempts: 4, retries: 3 })
    })

    it('a non-retryable error stops at once', async () => {
      let calls = 0
      engine = await testEngine({
        components: {
          t: {
            strict: () => {
              calls++
              throw new TerminalTaskError('bad input', { code: 'bad_input' })
            },
          },
        },
      })
      const { harmonia } = engine
      const workflow = await harmonia.createWorkflow(wf([{ id: 'x', component: 't', action: 'strict', retry: 5 }]))
      const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      const done = await harmonia.waitForExecution(execution_id)
      expect(calls).toBe(1)
      expect(done.task_executions.x).toMatchObject({
        status: 'failed',
        attempts: 1,
        error: { message: 'bad input', code: 'bad_input', retryable: false },
      })
      expect(shape(await harmonia.getEvents(execution_id))).toEqual([
        'workflow_started',
        'task_started:x',
        'task_failed:x',
        'workflow_failed',
      ])
    })

    it('exhausted retries fail the task, skip its dependents with the reason, let an independent branch complete', async () => {
      engine = await testEngine()
      const { harmonia, clock } = engine
      const workflow = await harmonia.createWorkflow(
        wf([
          { id: 'bad', component: 'harmonia', action: 'fail', input: { message: 'always' }, retry: { max_attempts: 2, jitter: false } },
          { id: 'child', component: 'harmonia', action: 'noop', depends_on: ['bad'] },
          { id: 'other', component: 'harmonia', action: 'echo', input: { fine: true } },
          { id: 'other2', component: 'harmonia', action: 'noop', depends_on: ['other'] },
        ]),
      )
      const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      const events = await record(harmonia, execution_id)
      await until(() => retrying(events).length === 1, 'retry')
      clock.increment(1000)
      const done = await harmonia.waitForExecution(execution_id)
      expect(done.status).toBe('failed')
      expect(done.error).toMatchObject({ message: 'task failed: bad' })
      expect(done.task_executions.bad).toMatchObject({ status: 'failed', attempts: 2, error: { message: 'always' } })
      expect(done.task_executions.child!.status).toBe('skipped')
      expect(events.find((e) => e.type === 'task_skipped')!.data.reason).toBe('upstream task bad failed')
      expect(done.task_executions.other!.status).toBe('completed')
      expect(done.task_executions.other2!.status).toBe('completed')
      expect(events.at(-1)!.type).toBe('workflow_failed')
    })

    it('fail_fast cancels the rest instead', async () => {
      const aborted = deferred<string>()
      engine = await testEngine({
        components: {
          t: {
            hang: (_: unknown, ctx: HandlerContext) =>
              new Promise((_, reject) =>
                ctx.signal.addEventListener('abort', () => (aborted.resolve('aborted'), reject(new Error('aborted')))),
              ),
          },
        },
      })
      const { harmonia } = engine
      const workflow = await harmonia.createWorkflow(
        wf(
          [
            { id: 'slow', component: 't', action: 'hang' },
            { id: 'bad', component: 'harmonia', action: 'fail', depends_on: [] },
            { id: 'later', component: 'harmonia', action: 'noop', depends_on: ['slow'] },
          ],
          { fail_fast: true },
        ),
      )
      const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      const done = await harmonia.waitForExecution(execution_id)
      expect(await aborted.promise).toBe('aborted')
      expect(done.status).toBe('failed')
      expect(done.task_executions.bad!.status).toBe('failed')
      expect(done.task_executions.slow!.status).toBe('canceled')
      expect(done.task_executions.later!.status).toBe('canceled')
    })
  })

  describe('timeouts', () => {
    it('aborts a handler that never resolves after `timeout` (its signal fires) and retries it', async () => {
      const signals: AbortSignal[] = []
      engine = await testEngine({
        components: {
          t: {
            stuck: (_: unknown, ctx: HandlerContext) => {
              signals.push(ctx.signal)
              if (ctx.attempt === 2) return { second: true }
              return new Promise(() => {}) // never settles
            },
          },
        },
      })
      const { harmonia, clock } = engine
      const workflow = await harmonia.createWorkflow(
        wf([{ id: 's', component: 't', action: 'stuck', timeout: 5, retry: { max_attempts: 2, jitter: false } }]),
      )
      const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      const events = await record(harmonia, execution_id)
      await until(() => signals.length === 1, 'first attempt')
      clock.increment(4999)
      expect(signals[0]!.aborted).toBe(false)
      clock.increment(1)
      expect(signals[0]!.aborted).toBe(true)
      await until(() => retrying(events).length === 1, 'retry after timeout')
      expect(retrying(events)[0]!.data.error).toMatchObject({ code: 'timeout', retryable: true })
      clock.increment(1000)
      const done = await harmonia.waitForExecution(execution_id)
      expect(done.task_executions.s).toMatchObject({ status: 'completed', attempts: 2, output: { second: true } })
    })

    it('the workflow timeout fails the execution and cancels what runs', async () => {
      engine = await testEngine()
      const { harmonia, clock } = engine
      const workflow = await harmonia.createWorkflow(
        wf([{ id: 'z', component: 'harmonia', action: 'sleep', input: { seconds: 60 } }], { timeout: 10 }),
      )
      const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      const events = await record(harmonia, execution_id)
      await until(() => events.some((e) => e.type === 'task_started'), 'sleep started')
      clock.increment(10_000)
      const done = await harmonia.waitForExecution(execution_id)
      expect(done.status).toBe('failed')
      expect(done.error).toMatchObject({ code: 'timeout' })
      expect(done.task_executions.z!.status).toBe('canceled')
    })
  })

  describe('pause, resume, cancel', () => {
    it('pause during a run: no new task starts; running ones finish and are recorded; resume completes', async () => {
      const gate = deferred()
      const gate2 = deferred()
      const started: string[] = []
      engine = await testEngine({
        components: {
          t: {
            work: async (input: { id: string; wait?: boolean }) => {
              started.push(input.id)
              await (input.wait ? gate.promise : gate2.promise)
              return { id: input.id }
            },
          },
        },
      })
      const { harmonia } = engine
      const workflow = await harmonia.createWorkflow(
        wf([
          { id: 'first', component: 't', action: 'work', input: { id: 'first', wait: true } },
          { id: 'second', component: 't', action: 'work', input: { id: 'second' }, depends_on: ['first'] },
        ]),
      )
      const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      const events = await record(harmonia, execution_id)
      await until(() => started.length === 1, 'first started')
      const paused = await harmonia.pauseExecution(execution_id)
      expect(paused.status).toBe('paused')
      gate.resolve()
      await until(async () => (await harmonia.getExecution(execution_id)).task_executions.first!.status === 'completed', 'first recorded')
      // Give the engine every chance to (wrongly) start `second`.
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r))
      expect(started).toEqual(['first'])
      const during = await harmonia.getExecution(execution_id)
      expect(during.status).toBe('paused')
      expect(during.task_executions.second!.status).toBe('pending')
      await expect(harmonia.pauseExecution(execution_id)).rejects.toThrow(/cannot pause execution .*: it is paused/)
      const resumed = await harmonia.resumeExecution(execution_id)
      expect(resumed.status).toBe('running')
      await until(() => started.length === 2, 'second started')
      gate2.resolve()
      const done = await harmonia.waitForExecution(execution_id)
      expect(done.status).toBe('completed')
      expect(shape(events)).toEqual([
        'workflow_started',
        'task_started:first',
        'workflow_paused',
        'task_completed:first',
        'workflow_resumed',
        'task_started:second',
        'task_completed:second',
        'workflow_completed',
      ])
    })

    it('cancel aborts a running handler (its signal fires) and cancels every unfinished task', async () => {
      const aborted = deferred<unknown>()
      const entered = deferred<void>()
      engine = await testEngine({
        components: {
          t: {
            hang: (_: unknown, ctx: HandlerContext) =>
              new Promise((_, reject) => {
                ctx.signal.addEventListener('abort', () => (aborted.resolve(ctx.signal.reason), reject(new Error('aborted'))))
                entered.resolve()
              }),
          },
        },
      })
      const { harmonia } = engine
      const workflow = await harmonia.createWorkflow(
        wf([
          { id: 'done_first', component: 'harmonia', action: 'noop' },
          { id: 'hanging', component: 't', action: 'hang', depends_on: ['done_first'] },
          { id: 'never', component: 'harmonia', action: 'noop', depends_on: ['hanging'] },
        ]),
      )
      const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      const events = await record(harmonia, execution_id)
      await until(() => events.some((e) => e.type === 'task_started' && e.task_id === 'hanging'), 'hanging started')
      // The event can be committed before the handler runs; cancel while it is in the handler.
      await entered.promise
      const canceled = await harmonia.cancelExecution(execution_id)
      expect(canceled.status).toBe('canceled')
      await aborted.promise
      const done = await harmonia.waitForExecution(execution_id)
      expect(done.status).toBe('canceled')
      expect(done.task_executions.done_first!.status).toBe('completed')
      expect(done.task_executions.hanging!.status).toBe('canceled')
      expect(done.task_executions.never!.status).toBe('canceled')
      expect(events.at(-1)!.type).toBe('workflow_canceled')
      for (const command of ['pauseExecution', 'resumeExecution', 'cancelExecution'] as const) {
        await expect(harmonia[command](execution_id)).rejects.toMatchObject({
          code: 'invalid_transition',
          message: expect.stringContaining('it is canceled'),
        })
      }
    })

    it('refuses commands on a completed execution with a clear error', async () => {
      engine = await testEngine()
      const { harmonia } = engine
      const workflow = await harmonia.createWorkflow(wf([{ id: 'n', component: 'harmonia', action: 'noop' }]))
      const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      await harmonia.waitForExecution(execution_id)
      await expect(harmonia.pauseExecution(execution_id)).rejects.toThrow(`cannot pause execution ${execution_id}: it is completed`)
      await expect(harmonia.resumeExecution(execution_id)).rejects.toThrow(/it is completed/)
      await expect(harmonia.cancelExecution(execution_id)).rejects.toThrow(/it is completed/)
    })
  })

  describe('components', () => {
    it('gives handlers the execution id, task id, attempt, idempotency key, signal and logger', async () => {
      let seen: HandlerContext | undefined
      engine = await testEngine({ components: { t: { look: (_: unknown, ctx: HandlerContext) => ((seen = ctx), {}) } } })
      const workflow = await engine.harmonia.createWorkflow(wf([{ id: 'look', component: 't', action: 'look' }]))
      const { execution_id } = await engine.harmonia.startExecution({ workflow_id: workflow.workflow_id })
      await engine.harmonia.waitForExecution(execution_id)
      expect(seen).toMatchObject({ executionId: execution_id, taskId: 'look', attempt: 1, idempotencyKey: `${execution_id}:look` })
      expect(seen!.signal).toBeInstanceOf(AbortSignal)
      expect(typeof seen!.logger.info).toBe('function')
    })

    it('rejects a workflow naming an unknown component or action when the component set is known', async () => {
      engine = await testEngine({ components: { t: { a: () => ({}) } } })
      await expect(engine.harmonia.createWorkflow(wf([{ id: 'x', component: 'nope', action: 'a' }]))).rejects.toMatchObject({
        errors: [{ path: 'tasks[0].component', message: expect.stringContaining('nope') }],
      })
      await expect(engine.harmonia.createWorkflow(wf([{ id: 'x', component: 't', action: 'zzz' }]))).rejects.toMatchObject({
        errors: [{ path: 'tasks[0].action', message: expect.stringContaining('zzz') }],
      })
    })

    it('fails a task naming an unknown component at once with a non-retryable error (server mode)', async () => {
      engine = await testEngine()
      const workflow = await engine.harmonia.createWorkflow(wf([{ id: 'x', component: 'ghost', action: 'boo', retry: 3 }]))
      const { execution_id } = await engine.harmonia.startExecution({ workflow_id: workflow.workflow_id })
      const done = await engine.harmonia.waitForExecution(execution_id)
      expect(done.task_executions.x).toMatchObject({
        status: 'failed',
        attempts: 1,
        error: { code: 'unknown_component', retryable: false },
      })
      expect(done.task_executions.x!.error!.message).toContain('ghost')
    })

    it('harmonia.sleep is a timer on the engine clock', async () => {
      engine = await testEngine()
      const { harmonia, clock } = engine
      const workflow = await harmonia.createWorkflow(wf([{ id: 'z', component: 'harmonia', action: 'sleep', input: { seconds: 30 } }]))
      const { execution_id } = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
      const events = await record(harmonia, execution_id)
      await until(() => events.some((e) => e.type === 'task_started'), 'started')
      // The event can be committed before the handler has run: wait until its 30 s timer is on the clock.
      const pending = () => [...(clock as unknown as { timeouts: Map<number, { timeout: number }> }).timeouts.values()]
      await until(() => pending().some((t) => t.timeout >= 29_000), 'the sleep armed')
      clock.increment(29_999)
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
      expect((await harmonia.getExecution(execution_id)).status).toBe('running')
      clock.increment(1)
      expect((await harmonia.waitForExecution(execution_id)).task_executions.z!.output).toEqual({ slept: 30 })
    })

    it('a handler output Postgres cannot store fails that task only; NUL in input is refused', async () => {
      engine = await testEngine({ components: { t: { nul: () => ({ text: 'a\u0000b' }), lone: () => ({ text: 'a\ud800b' }) } } })
      const { harmonia } = engine
      const bad = await harmonia.createWorkflow(wf([{ id: 'x', component: 't', action: 'nul' }]))
      const good = await harmonia.createWorkflow(wf([{ id: 'y', component: 'harmonia', action: 'echo', input: { ok: 1 } }]))
      const [b, g] = await Promise.all([
        harmonia.startExecution({ workflow_id: bad.workflow_id }),
        harmonia.startExecution({ workflow_id: good.workflow_id }),
      ])
      const badDone = await harmonia.waitForExecution(b.execution_id)
      expect(badDone.task_executions.x).toMatchObject({ status: 'failed', error: { code: 'invalid_output', retryable: false } })
      const lone = await harmonia.createWorkflow(wf([{ id: 'l', component: 't', action: 'lone' }]))
      const loneDone = await harmonia.waitForExecution((await harmonia.startExecution({ workflow_id: lone.workflow_id })).execution_id)
      expect(loneDone.task_executions.l).toMatchObject({
        status: 'failed',
        error: { code: 'invalid_output', message: expect.stringContaining('surrogate') },
      })
      expect((await harmonia.waitForExecution(g.execution_id)).status).toBe('completed')
      await expect(harmonia.startExecution({ workflow_id: good.workflow_id, input: { s: 'a\u0000' } })).rejects.toMatchObject({
        errors: [{ path: 'input.s' }],
      })
    })

    it('harmonia.echo and noop return their documented outputs', async () => {
      engine = await testEngine()
      const workflow = await engine.harmonia.createWorkflow(
        wf([
          { id: 'e', component: 'harmonia', action: 'echo', input: { a: [1, 2], b: 'x' } },
          { id: 'n', component: 'harmonia', action: 'noop' },
        ]),
      )
      const { execution_id } = await engine.harmonia.startExecution({ workflow_id: workflow.workflow_id })
      const done = await engine.harmonia.waitForExecution(execution_id)
      expect(done.task_executions.e!.output).toEqual({ a: [1, 2], b: 'x' })
      expect(done.task_executions.n!.output).toEqual({})
    })
  })

  describe('inspection', () => {
    it('the inspect option observes the execution actor and every task actor', async () => {
      const actors = new Set<string>()
      engine = await testEngine({
        inspect: (ev) => {
          if (ev.type === '@xstate.actor') actors.add((ev.actorRef as unknown as { id: string }).id)
        },
      })
      const workflow = await engine.harmonia.createWorkflow(
        wf([
          { id: 'one', component: 'harmonia', action: 'noop' },
          { id: 'two', component: 'harmonia', action: 'noop', depends_on: ['one'] },
        ]),
      )
      const { execution_id } = await engine.harmonia.startExecution({ workflow_id: workflow.workflow_id })
      await engine.harmonia.waitForExecution(execution_id)
      expect(actors.has(execution_id)).toBe(true)
      expect(actors.has('one')).toBe(true)
      expect(actors.has('two')).toBe(true)
    })
  })

  describe('scale and memory', () => {
    it('completes a 10,000-task fan-out/fan-in (root → 9,998 noop → join) and releases its actors', async () => {
      engine = await testEngine({ clock: undefined })
      const tasks = [
        { id: 'root', component: 'harmonia', action: 'noop' },
        ...Array.from({ length: 9998 }, (_, i) => ({ id: `n${i}`, component: 'harmonia', action: 'noop', depends_on: ['root'] })),
        { id: 'join', component: 'harmonia', action: 'noop', depends_on: Array.from({ length: 9998 }, (_, i) => `n${i}`) },
      ]
      const workflow = await engine.harmonia.createWorkflow({ name: 'big', tasks, max_concurrency: 200 })
      const { execution_id } = await engine.harmonia.startExecution({ workflow_id: workflow.workflow_id })
      const done = await engine.harmonia.waitForExecution(execution_id)
      expect(done.status).toBe('completed')
      expect(Object.values(done.task_executions).filter((t) => t.status === 'completed')).toHaveLength(10_000)
      const events = await engine.harmonia.getEvents(execution_id)
      expect(events).toHaveLength(2 + 2 * 10_000)
      expect(events.every((e, i) => e.seq === i + 1)).toBe(true)
      expect(engine.harmonia.activeExecutions).toBe(0)
    })
  })
})
