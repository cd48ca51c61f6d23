import { describe, expect, it } from 'vitest'
import { SimulatedClock } from 'xstate'
import { sleepOn } from '../../src/clock.js'
import { harmoniaComponent } from '../../src/components/harmonia.component.js'
import type { HandlerContext } from '../../src/components/handler.js'
import { TerminalTaskError } from '../../src/errors.js'
import { createLogger } from '../../src/logger.js'

function context(attempt = 1, clock = new SimulatedClock()): HandlerContext {
  const signal = new AbortController().signal
  return {
    executionId: 'e',
    workflowId: 'w',
    taskId: 't',
    attempt,
    idempotencyKey: 'e:t',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    deadline: null,
    awaitCallback: () => Promise.reject(new Error('no callback in this test')),
    waitForSignal: () => Promise.reject(new Error('no signal in this test')),
    now: () => Date.now(),
    signal,
    logger: createLogger({ level: 'silent' }),
    sleep: (ms) => sleepOn(clock, ms, signal),
  }
}

/** Calls an action as the task runner does: a synchronous throw becomes a rejection. */
const call = (action: string, input: unknown, ctx: HandlerContext) => (async () => harmoniaComponent[action]!(input, ctx))()

describe('the built-in harmonia component', () => {
  it('noop returns {}, echo returns its input (null for none)', async () => {
    expect(await harmoniaComponent.noop!(undefined, context())).toEqual({})
    expect(await harmoniaComponent.echo!({ a: [1, 'x'] }, context())).toEqual({ a: [1, 'x'] })
    expect(await harmoniaComponent.echo!(undefined, context())).toBeNull()
  })

  it('sleep waits on the engine clock and reports what it slept; a bad duration fails for good', async () => {
    const clock = new SimulatedClock()
    let done = false
    const slept = call('sleep', { seconds: 2 }, context(1, clock)).then((v) => ((done = true), v))
    await Promise.resolve()
    clock.increment(1_999)
    await Promise.resolve()
    expect(done).toBe(false)
    clock.increment(1)
    expect(await slept).toEqual({ slept: 2 })
    for (const seconds of [-1, 'soon', Infinity]) {
      await expect(call('sleep', { seconds }, context())).rejects.toBeInstanceOf(TerminalTaskError)
    }
  })

  it('fail fails while the attempt is at most `attempts`, then succeeds; retryable: false makes it terminal', async () => {
    await expect(call('fail', { attempts: 2 }, context(2))).rejects.toThrow('harmonia.fail: failing on purpose')
    expect(await harmoniaComponent.fail!({ attempts: 2 }, context(3))).toEqual({ attempt: 3 })
    const terminal = await call('fail', { message: 'no', retryable: false }, context()).catch((e: unknown) => e)
    expect(terminal).toBeInstanceOf(TerminalTaskError)
    expect(terminal).toMatchObject({ message: 'no', code: 'non_retryable' })
  })
})
