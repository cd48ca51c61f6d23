import { describe, expect, it } from 'vitest'
import { createActor, SimulatedClock, toPromise, waitFor } from 'xstate'
import { TerminalTaskError } from '../../src/errors.js'
import { baseBackoffMs, backoffMs, nextRandom } from '../../src/machines/backoff.js'
import { attemptActions } from '../../src/machines/attempts.js'
import { taskMachine, type AttemptInput, type TaskInput, type TaskReport } from '../../src/machines/task.machine.js'
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../src/model/definition.js'
import { TASK_STATUSES } from '../../src/model/status.js'
import { deferred } from '../support/async.js'

const policy = (p: Partial<RetryPolicy> = {}): RetryPolicy => ({ ...DEFAULT_RETRY_POLICY, jitter: false, ...p })
const input = (over: Partial<TaskInput> = {}): TaskInput => ({
  executionId: 'e1',
  workflowId: 'w1',
  taskId: 't1',
  component: 'c',
  action: 'a',
  input: { n: 1 },
  policy: policy({ max_attempts: 3 }),
  seed: 42,
  ...over,
})

/** A runTask whose attempts follow a script: each step returns a value or throws. */
const scripted = (...steps: Array<(i: AttemptInput) => unknown>) => {
  let call = 0
  return async ({ input }: { input: AttemptInput }) => steps[call++]!(input)
}

function start(machine: typeof taskMachine, over: Partial<TaskInput> = {}, clock = new SimulatedClock()) {
  const reports: TaskReport[] = []
  const actor = createActor(machine, { input: input(over), clock })
  actor.on('*', (r) => reports.push(r))
  actor.start()
  return { actor, reports, clock }
}

describe('taskMachine', () => {
  it('only uses states from the shared status vocabulary', () => {
    for (const state of Object.keys(taskMachine.root.states)) expect(TASK_STATUSES).toContain(state)
  })

  it('running → completed, reporting the start of attempt 1', async () => {
    const { actor, reports } = start(
      taskMachine.provide({ actions: attemptActions(scripted((i) => ({ got: i.input, attempt: i.attempt }))) }),
    )
    await expect(toPromise(actor)).resolves.toEqual({
      taskId: 't1',
      status: 'completed',
      attempt: 1,
      output: { got: { n: 1 }, attempt: 1 },
      error: null,
    })
    expect(reports).toEqual([{ type: 'task.started', taskId: 't1', attempt: 1, announced: true }])
  })

  it('running → retrying after a retryable failure, back to running after exactly the backoff', async () => {
    const machine = taskMachine.provide({
      actions: attemptActions(
        scripted(
          () => {
            throw new Error('flaky')
          },
          () => 'ok',
        ),
      ),
    })
    const { actor, reports, clock } = start(machine)
    await waitFor(actor, (s) => s.matches('retrying'))
    expect(reports[1]).toEqual({
      type: 'task.retrying',
      taskId: 't1',
      attempt: 1,
      error: { message: 'flaky', retryable: true },
      delayMs: 1000,
    })
    clock.increment(999)
    expect(actor.getSnapshot().value).toBe('retrying')
    clock.increment(1)
    await expect(toPromise(actor)).resolves.toMatchObject({ status: 'completed', attempt: 2, output: 'ok' })
  })

  it('running → failed when attempts are exhausted, keeping the last error', async () => {
    const boom = () => {
      throw new Error('boom')
    }
    const { actor, clock } = start(taskMachine.provide({ actions: attemptActions(scripted(boom, boom)) }), {
      policy: policy({ max_attempts: 2 }),
    })
    await waitFor(actor, (s) => s.matches('retrying'))
    clock.increment(1000)
    await expect(toPromise(actor)).resolves.toMatchObject({ status: 'failed', attempt: 2, error: { message: 'boom', retryable: true } })
  })

  it('running → failed at once on a TerminalTaskError or a listed non-retryable code', async () => {
    const terminal = start(
      taskMachine.provide({
        actions: attemptActions(
          scripted(() => {
            throw new TerminalTaskError('no', { code: 'nope' })
          }),
        ),
      }),
    )
    await expect(toPromise(terminal.actor)).resolves.toMatchObject({
      status: 'failed',
      attempt: 1,
      error: { code: 'nope', retryable: false },
    })

    const listed = start(
      taskMachine.provide({
        actions: attemptActions(
          scripted(() => {
            throw Object.assign(new Error('quota'), { code: 'QUOTA' })
          }),
        ),
      }),
      { policy: policy({ max_attempts: 5, non_retryable_errors: ['QUOTA'] }) },
    )
    await expect(toPromise(listed.actor)).resolves.toMatchObject({
      status: 'failed',
      attempt: 1,
      error: { code: 'QUOTA', retryable: false },
    })
  })

  it('running → retrying on the attempt timeout, aborting the attempt signal', async () => {
    const signals: AbortSignal[] = []
    const machine = taskMachine.provide({
      actions: attemptActions(({ input, signal }) => {
        signals.push(signal)
        return input.attempt === 1 ? new Promise(() => {}) : Promise.resolve('second')
      }),
    })
    const { actor, clock, reports } = start(machine, { timeoutMs: 3000 })
    await waitFor(actor, (s) => s.matches('running'))
    clock.increment(2999)
    expect(signals[0]!.aborted).toBe(false)
    clock.increment(1)
    expect(signals[0]!.aborted).toBe(true)
    expect(actor.getSnapshot().value).toBe('retrying')
    expect(reports[1]).toMatchObject({ type: 'task.retrying', error: { code: 'timeout', retryable: true } })
    clock.increment(1000)
    await expect(toPromise(actor)).resolves.toMatchObject({ status: 'completed', output: 'second', attempt: 2 })
  })

  it('no timeout configured: a slow attempt is never cut', async () => {
    const slow = deferred<unknown>()
    const { actor, clock } = start(taskMachine.provide({ actions: attemptActions(() => slow.promise) }))
    await waitFor(actor, (s) => s.matches('running'))
    clock.increment(10 * 24 * 3600 * 1000)
    expect(actor.getSnapshot().value).toBe('running')
    slow.resolve('late')
    await expect(toPromise(actor)).resolves.toMatchObject({ status: 'completed', output: 'late' })
  })

  it('pause while running lets the attempt finish; a failure then waits in paused until resume', async () => {
    const attempt = deferred<never>()
    const machine = taskMachine.provide({
      actions: attemptActions(
        scripted(
          () => attempt.promise,
          () => 'after resume',
        ),
      ),
    })
    const { actor, clock, reports } = start(machine)
    await waitFor(actor, (s) => s.matches('running'))
    actor.send({ type: 'task.pause' })
    expect(actor.getSnapshot().value).toBe('running')
    attempt.reject(new Error('flaky'))
    await waitFor(actor, (s) => s.matches('paused'))
    clock.increment(60_000)
    expect(actor.getSnapshot().value).toBe('paused')
    actor.send({ type: 'task.resume' })
    expect(actor.getSnapshot().value).toBe('retrying')
    clock.increment(1000)
    await expect(toPromise(actor)).resolves.toMatchObject({ status: 'completed', output: 'after resume' })
    // One `task.retrying` per failed attempt, reported when the retry is decided, even while paused.
    expect(reports.map((r) => r.type)).toEqual(['task.started', 'task.retrying', 'task.paused', 'task.resumed', 'task.started'])
  })

  it('pause in backoff holds the retry; resume restarts the backoff', async () => {
    const machine = taskMachine.provide({
      actions: attemptActions(
        scripted(
          () => {
            throw new Error('x')
          },
          () => 'ok',
        ),
      ),
    })
    const { actor, clock, reports } = start(machine)
    await waitFor(actor, (s) => s.matches('retrying'))
    actor.send({ type: 'task.pause' })
    expect(actor.getSnapshot().value).toBe('paused')
    clock.increment(5000)
    expect(actor.getSnapshot().value).toBe('paused')
    actor.send({ type: 'task.resume' })
    clock.increment(1000)
    await expect(toPromise(actor)).resolves.toMatchObject({ status: 'completed', attempt: 2 })
    // The resume announces the status change and the backoff that starts over, not a second retry of attempt 1.
    expect(reports.map((r) => r.type)).toEqual(['task.started', 'task.retrying', 'task.paused', 'task.resumed', 'task.started'])
    expect(reports.find((r) => r.type === 'task.resumed')).toMatchObject({ attempt: 1, delayMs: 1000 })
  })

  it('cancel aborts the running attempt and ends canceled', async () => {
    let signal: AbortSignal | undefined
    const machine = taskMachine.provide({ actions: attemptActions(({ signal: s }) => ((signal = s), new Promise(() => {}))) })
    const { actor } = start(machine)
    await waitFor(actor, (s) => s.matches('running'))
    actor.send({ type: 'task.cancel', reason: 'user asked' })
    expect(signal!.aborted).toBe(true)
    await expect(toPromise(actor)).resolves.toMatchObject({ status: 'canceled', error: { message: 'user asked', code: 'canceled' } })
  })

  it('keeps the attempt count of a recovered task', async () => {
    const { actor } = start(taskMachine.provide({ actions: attemptActions(scripted((i) => i.attempt)) }), { attempt: 2 })
    await expect(toPromise(actor)).resolves.toMatchObject({ output: 3, attempt: 3 })
  })

  it('round-trips its persisted snapshot through JSON while in backoff', async () => {
    const machine = taskMachine.provide({
      actions: attemptActions(
        scripted(() => {
          throw new Error('x')
        }),
      ),
    })
    const { actor } = start(machine)
    await waitFor(actor, (s) => s.matches('retrying'))
    const persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot())) as ReturnType<typeof actor.getPersistedSnapshot>
    actor.stop()
    const restored = createActor(machine, { snapshot: persisted, input: input() }).start()
    expect(restored.getSnapshot().value).toBe('retrying')
    expect(restored.getSnapshot().context).toMatchObject({ attempt: 1, backoffMs: 1000, error: { message: 'x' } })
    restored.stop()
  })
})

describe('backoff', () => {
  const p = policy({ initial_interval: 1, backoff_coefficient: 2, max_interval: 10 })
  it('grows exponentially up to max_interval', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => baseBackoffMs(p, n))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000])
  })
  it('full jitter draws from [0, d]; a fraction f from [d(1−f), d]; none gives d', () => {
    expect(backoffMs({ ...p, jitter: true }, 3, 0)).toBe(4000)
    expect(backoffMs({ ...p, jitter: true }, 3, 0.75)).toBe(1000)
    expect(backoffMs({ ...p, jitter: 0.5 }, 3, 0.999999)).toBe(2000)
    expect(backoffMs({ ...p, jitter: false }, 3, 0.9)).toBe(4000)
  })
  it('the PRNG is deterministic and uniform-ish', () => {
    let state = 7
    const values: number[] = []
    for (let i = 0; i < 10_000; i++) {
      const d = nextRandom(state)
      state = d.state
      values.push(d.value)
    }
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true)
    const mean = values.reduce((a, b) => a + b, 0) / values.length
    expect(mean).toBeGreaterThan(0.48)
    expect(mean).toBeLessThan(0.52)
    expect(nextRandom(7)).toEqual(nextRandom(7))
  })

  it('stopping the actor aborts the attempt in flight (XState runs no exit action on stop)', async () => {
    let signal: AbortSignal | undefined
    const machine = taskMachine.provide({ actions: attemptActions(({ signal: s }) => ((signal = s), new Promise(() => {}))) })
    const { actor } = start(machine)
    await waitFor(actor, (s) => s.matches('running'))
    expect(signal!.aborted).toBe(false)
    actor.stop()
    expect(signal!.aborted).toBe(true)
  })

  it('ignores the late outcome of an attempt that timed out: the next attempt decides', async () => {
    const first = deferred<unknown>()
    const machine = taskMachine.provide({
      actions: attemptActions(({ input }) => (input.attempt === 1 ? first.promise : new Promise(() => {}))),
    })
    const { actor, clock } = start(machine, { timeoutMs: 1000 })
    await waitFor(actor, (s) => s.matches('running'))
    clock.increment(1000) // attempt 1 times out
    clock.increment(1000) // the backoff: attempt 2 starts and never answers
    expect(actor.getSnapshot().context.attempt).toBe(2)
    first.resolve('late')
    await new Promise((resolve) => setImmediate(resolve))
    expect(actor.getSnapshot().value).toBe('running')
    expect(actor.getSnapshot().context.output).toBeNull()
  })

  it('reads no abort signal unless the call asks for one, and a signal asked for after the abort is already aborted', async () => {
    const attempts: Array<{ signal: AbortSignal }> = []
    const machine = taskMachine.provide({
      actions: attemptActions((attempt) => (attempts.push(attempt), new Promise(() => {}))),
    })
    const { actor } = start(machine)
    await waitFor(actor, (s) => s.matches('running'))
    actor.send({ type: 'task.cancel' })
    expect(attempts[0]!.signal.aborted).toBe(true)
  })

  it('starts the call after the transition that started the attempt, and not at all if the attempt is canceled first', async () => {
    let calls = 0
    const machine = taskMachine.provide({ actions: attemptActions(() => (calls++, new Promise(() => {}))) })
    const { actor } = start(machine)
    expect(calls).toBe(0) // not inside the start
    actor.send({ type: 'task.cancel' })
    await expect(toPromise(actor)).resolves.toMatchObject({ status: 'canceled' })
    await new Promise((resolve) => setImmediate(resolve))
    expect(calls).toBe(0)
    const { actor: second } = start(machine)
    await waitFor(second, (s) => s.matches('running'))
    await new Promise((resolve) => setImmediate(resolve))
    expect(calls).toBe(1)
    second.stop()
  })
})
