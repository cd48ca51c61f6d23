import { attemptTraceparent } from '../model/trace-context.js'
import { sleepOn, type Clock } from '../clock.js'
import { TerminalTaskError } from '../errors.js'
import { unstorable } from '../json.js'
import type { Logger } from '../logger.js'
import { attemptActions } from '../machines/attempts.js'
import { taskMachine, type AttemptInput } from '../machines/task.machine.js'
import type { HandlerContext } from '../components/handler.js'
import type { ComponentRegistry } from '../components/registry.js'
import type { Callbacks } from './callbacks.js'
import type { SignalWaiters } from './signal-waiters.js'
import type { Semaphore } from './semaphore.js'
import { sleepKey } from './timer-keys.js'
import { runFanOut, type ItemBook } from './fan-out.js'

/** The durable timers of live executions, as the supervisor keeps them. */
export type TimerBook = {
  /** The stored due time of `key` for a live execution, or undefined. */
  dueAt(executionId: string, key: string): string | undefined
  /** Records a durable timer owned by the task; resolves once it is committed. */
  remember(executionId: string, key: string, dueAt: string): Promise<void>
}

/** Records that an attempt waits for its callback (durable: a restart resumes the wait instead of calling again). */
export type AwaitingBook = { remember(executionId: string, taskId: string, attempt: number, deadline: string | null): Promise<void> }

export type TaskRunnerDeps = {
  registry: ComponentRegistry
  semaphore: Semaphore
  logger: Logger
  clock: Clock
  now: () => number
  timers: TimerBook
  callbacks: Callbacks
  awaiting: AwaitingBook
  signals: SignalWaiters
  /** The elements of fan-out tasks: stored, recorded, held while paused. */
  fanOut: { items: ItemBook; random: () => number }
  /** False when this node's lease on the execution lapsed (a frozen process woke up): the handler is not called. */
  mayRun?: (executionId: string) => boolean
  /** Pending while the commit that creates the execution's rows is in flight (journal.createdCommit). */
  created?: (executionId: string) => Promise<void> | undefined
  /** The `traceparent` an execution was started with, if any. */
  traceparentOf?: (executionId: string) => string | undefined
}

/** JSON in, JSON out: a handler's result is copied so later mutation cannot reach the engine. */
export function toJson(value: unknown): unknown {
  if (value === undefined) return null
  let text: string
  try {
    text = JSON.stringify(value)
  } catch (error) {
    throw new TerminalTaskError(`task output is not JSON: ${(error as Error).message}`, { code: 'invalid_output' })
  }
  const why = unstorable(text)
  if (why !== null) throw new TerminalTaskError(`task output contains ${why}, which cannot be stored`, { code: 'invalid_output' })
  return JSON.parse(text) as unknown
}

/**
 * The task machine with the real component call: one `startAttempt` is one attempt. It waits for a slot of
 * the process-wide limit, resolves the handler, builds its context and copies its output. Calls are at-least-once:
 * after a crash an attempt runs again with the same attempt number and idempotency key.
 */
export function createTaskLogic(deps: TaskRunnerDeps) {
  const { registry, semaphore, clock, timers, callbacks } = deps

  /**
   * `ctx.sleep`: a durable timer row, so that a restart resumes the sleep with the time that remains. The n-th sleep
   * of an attempt has its own key, which the same attempt re-run after a restart finds again.
   */
  async function durableSleep(input: AttemptInput, n: number, ms: number, signal: AbortSignal): Promise<void> {
    const key = sleepKey(input.taskId, input.attempt, n)
    let due = timers.dueAt(input.executionId, key)
    if (due === undefined) {
      due = new Date(deps.now() + ms).toISOString()
      await timers.remember(input.executionId, key, due)
    }
    await sleepOn(clock, Math.max(0, Date.parse(due) - deps.now()), signal)
  }

  /**
   * One call of the component: an attempt of a task, or of one fan-out element (`input.index`). An element's timers
   * are not durable and it cannot wait for a callback: its key would have to name the element (a known limit).
   */
  async function callComponent(input: AttemptInput, abort: { readonly signal: AbortSignal }): Promise<unknown> {
    const { executionId, taskId, attempt, index } = input
    // Read only where it is needed (see machines/attempts.ts: the signal is made on first use).
    const signalOf = () => abort.signal
    const element = index !== undefined
    const pause = (n: number, ms: number, on: AbortSignal) => (element ? sleepOn(clock, ms, on) : durableSleep(input, n, ms, on))
    const deadline = input.timeoutMs === undefined ? null : new Date(deps.now() + input.timeoutMs).toISOString()
    let holding = false
    let sleeps = 0
    const release = () => {
      if (holding) semaphore.release()
      holding = false
    }
    const awaitCallback = async () => {
      // A wait may last hours: it holds no slot of the process-wide limit.
      if (element) throw new TerminalTaskError('a fan-out element cannot wait for a callback (202)', { code: 'unsupported' })
      release()
      await deps.awaiting.remember(executionId, taskId, attempt, deadline)
      return callbacks.wait(executionId, taskId, attempt, signalOf())
    }
    /** A signal wait, raced against its durable timeout; whichever loses is stopped. */
    const waitForSignal = async (name: string, timeoutMs?: number) => {
      // A wait may last days: it holds no slot of the process-wide limit.
      release()
      const signal = signalOf()
      const inner = new AbortController()
      const stop = () => inner.abort(signal.reason)
      signal.addEventListener('abort', stop, { once: true })
      try {
        const consumer = element ? `${taskId}[${index}]#${attempt}` : `${taskId}#${attempt}`
        const waiting = deps.signals.wait(executionId, name, consumer, inner.signal)
        if (timeoutMs === undefined) return await waiting
        const timedOut = pause(sleeps++, timeoutMs, inner.signal).then(() => {
          throw new TerminalTaskError(`no signal "${name}" arrived within ${timeoutMs / 1000} s`, { code: 'signal_timeout' })
        })
        return await Promise.race([waiting, timedOut])
      } finally {
        signal.removeEventListener('abort', stop)
        inner.abort(new Error('the wait is over'))
      }
    }
    // A wait for a callback that a restart interrupted: the component answered 202 already; it is not called again.
    if (input.awaitingCallback) return toJson(await callbacks.wait(executionId, taskId, attempt, signalOf()))
    // A component is never called for an execution whose rows a crash could still take back: the first attempts of a
    // new execution wait for its creating commit (their start is in that commit; their end comes in a later one).
    const creating = deps.created?.(executionId)
    if (creating) await creating
    // The process-wide limit: an admitted attempt waits here for a slot, held until the call really ends.
    if (!semaphore.tryAcquire()) await semaphore.acquire(signalOf())
    holding = true
    try {
      // Checked at the last moment: a process that was frozen may resume here (a commit's answer arrives before any
      // timer runs) after another node took the execution over; it must not call the handler a second time.
      if (deps.mayRun?.(executionId) === false) throw new Error('lease lapsed: the attempt is not started here')
      const handler = registry.resolve(input.component, input.action)
      const ctx: HandlerContext = {
        executionId,
        workflowId: input.workflowId,
        taskId,
        attempt,
        idempotencyKey: element ? `${executionId}:${taskId}:${index}` : `${executionId}:${taskId}`,
        ...(element ? { index } : {}),
        deadline,
        get traceparent() {
          return attemptTraceparent(executionId, taskId, attempt, deps.traceparentOf?.(executionId))
        },
        get signal() {
          return signalOf()
        },
        logger: deps.logger.child({ execution_id: executionId, task_id: taskId, attempt, ...(element ? { index } : {}) }),
        sleep: (ms) => pause(sleeps++, ms, signalOf()),
        awaitCallback,
        waitForSignal,
        now: deps.now,
      }
      // Constant inputs are compiled once and frozen; each call gets its own copy to do with as it likes.
      const own = input.input !== null && typeof input.input === 'object' ? structuredClone(input.input) : input.input
      return toJson(await handler(own, ctx))
    } finally {
      release()
      callbacks.forget(executionId, taskId, attempt)
    }
  }

  return taskMachine.provide({
    actions: attemptActions((attempt) =>
      attempt.input.fanOut
        ? runFanOut(attempt.input, attempt.signal, { ...deps.fanOut, clock, now: deps.now, call: callComponent })
        : callComponent(attempt.input, attempt),
    ),
  })
}
export type TaskLogic = ReturnType<typeof createTaskLogic>
/** A task actor's state to start from (a waiting task restored from its row). */
export type TaskSnapshot = ReturnType<TaskLogic['resolveState']>
