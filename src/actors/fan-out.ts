import { setMaxListeners } from 'node:events'
import { sleepOn, type Clock } from '../clock.js'
import type { ItemRow } from '../db/store.js'
import { TerminalTaskError, toTaskFailure, type TaskFailure } from '../errors.js'
import type { ItemCounts } from '../model/resources.js'
import { LazyAbort } from '../machines/attempts.js'
import { backoffMs } from '../machines/backoff.js'
import type { AttemptInput } from '../machines/task.machine.js'
import type { ItemChange } from './journal.js'

/** Where the elements of a fan-out are read from (after a restart) and recorded to (the journal). */
export type ItemBook = {
  load(executionId: string, taskId: string): Promise<ItemRow[]>
  record(executionId: string, taskId: string, change: ItemChange): void
  /** Resolves while the task may start elements: a paused execution holds the next ones (running ones finish). */
  open(executionId: string, taskId: string, signal: AbortSignal): Promise<void>
}

export type FanOutDeps = {
  items: ItemBook
  clock: Clock
  now: () => number
  random: () => number
  /**
   * One call of the component for one element attempt (the task runner's call, with its context and slot); `abort`'s
   * signal is read only if the call needs it (LazyAbort).
   */
  call(element: AttemptInput, abort: { readonly signal: AbortSignal }): Promise<unknown>
}

const stopped = (signal: AbortSignal) => signal.aborted

/**
 * One attempt of a fan-out task (API.md "Control flow"): runs the action once per element, at most `concurrency` at a
 * time, each element with its own attempts, backoff and timeout, and resolves with the outputs in order. Elements are
 * not actors: each costs one slot of an array and, per transition, one event and one small row (journal.recordItem), so
 * the cost per element stays flat at any length. After a restart, elements stored as ended are not run again; the
 * others run again (at least once, as any attempt).
 */
export async function runFanOut(input: AttemptInput, signal: AbortSignal, deps: FanOutDeps): Promise<unknown[]> {
  const spec = input.fanOut!
  const { executionId, taskId } = input
  const inputs = input.input as unknown[]
  const total = inputs.length
  const outputs: unknown[] = new Array<unknown>(total).fill(null)
  const made = new Array<number>(total).fill(0)
  const done = new Uint8Array(total)
  const counts: ItemCounts = { total, completed: 0, failed: 0, running: 0 }
  let failure: { index: number; error: TaskFailure } | null = null
  for (const row of await deps.items.load(executionId, taskId)) {
    if (row.index >= total) continue
    made[row.index] = row.attempts
    if (row.status === 'completed' || row.status === 'failed') {
      done[row.index] = 1
      outputs[row.index] = row.status === 'completed' ? row.output : { error: row.error }
      counts[row.status]++
      if (row.status === 'failed' && !spec.continueOnError) failure ??= { index: row.index, error: row.error as TaskFailure }
    }
  }
  const record = (event: ItemChange['event'], data: Record<string, unknown>, row?: ItemRow) =>
    deps.items.record(executionId, taskId, { event, data, ...(row ? { row } : {}), counts })
  record(undefined, {})

  // One element failing stops the rest (unless continue_on_error): the in-flight calls are aborted.
  const inner = new AbortController()
  // Every element in flight listens to it: as many listeners as the concurrency allows is expected, not a leak.
  setMaxListeners(0, inner.signal)
  const onAbort = () => inner.abort(signal.reason)
  signal.addEventListener('abort', onAbort, { once: true })
  const iso = () => new Date(deps.now()).toISOString()

  async function runElement(index: number): Promise<void> {
    const start = iso()
    for (;;) {
      await deps.items.open(executionId, taskId, inner.signal)
      const attempt = ++made[index]!
      counts.running++
      record('task_started', { index, attempt })
      try {
        const output = await callWithTimeout(index, attempt)
        counts.running--
        counts.completed++
        outputs[index] = output
        record('task_completed', { index, attempt, output }, item(index, 'completed', attempt, output, null, start, iso()))
        return
      } catch (error) {
        counts.running--
        if (stopped(inner.signal)) return
        const failed = toTaskFailure(error, spec.policy.non_retryable_errors)
        if (failed.retryable && attempt < spec.policy.max_attempts) {
          const delay = Math.max(failed.retry_after_ms ?? 0, backoffMs(spec.policy, attempt, deps.random()))
          record(
            'task_retrying',
            { index, attempt, error: failed, delay_ms: delay },
            item(index, 'retrying', attempt, null, failed, start, null),
          )
          await sleepOn(deps.clock, delay, inner.signal)
          continue
        }
        counts.failed++
        outputs[index] = { error: failed }
        record('task_failed', { index, attempt, error: failed }, item(index, 'failed', attempt, null, failed, start, iso()))
        if (!spec.continueOnError) {
          failure ??= { index, error: failed }
          inner.abort(new Error(`element ${index} failed`))
        }
        return
      }
    }
  }

  /** The element's call, aborted and failed as retryable `timeout` when its attempt outlives `timeout`. */
  async function callWithTimeout(index: number, attempt: number): Promise<unknown> {
    const own = new LazyAbort()
    const stop = () => own.abort(inner.signal.reason)
    inner.signal.addEventListener('abort', stop, { once: true })
    let timer: unknown = null
    try {
      const element: AttemptInput = { ...input, input: inputs[index], attempt, index, awaitingCallback: false }
      delete element.fanOut
      const call = deps.call(element, own)
      if (spec.timeoutMs === undefined) return await call
      const timedOut = new Promise<never>((_, reject) => {
        timer = deps.clock.setTimeout(() => {
          const error = Object.assign(new Error(`element ${index} attempt ${attempt} timed out after ${spec.timeoutMs! / 1000}s`), {
            code: 'timeout',
          })
          own.abort(error)
          reject(error)
        }, spec.timeoutMs!)
      })
      return await Promise.race([call, timedOut])
    } finally {
      if (timer !== null) deps.clock.clearTimeout(timer)
      inner.signal.removeEventListener('abort', stop)
    }
  }

  let next = 0
  const worker = async (): Promise<void> => {
    while (!stopped(inner.signal)) {
      while (next < total && done[next]) next++
      if (next >= total) return
      const index = next++
      await runElement(index).catch(() => undefined)
    }
  }
  try {
    if (failure === null) {
      const left = total - counts.completed - counts.failed
      await Promise.all(Array.from({ length: Math.min(spec.concurrency, left) }, worker))
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
  if (signal.aborted) throw signal.reason
  if (failure !== null) {
    const { index, error } = failure
    throw new TerminalTaskError(`element ${index} failed: ${error.message}`, { code: error.code ?? 'element_failed' })
  }
  return outputs
}

function item(
  index: number,
  status: ItemRow['status'],
  attempts: number,
  output: unknown,
  error: TaskFailure | null,
  start_time: string,
  end_time: string | null,
): ItemRow {
  return { index, status, attempts, output, error, start_time, end_time }
}
