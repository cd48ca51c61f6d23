import { TerminalTaskError } from '../errors.js'

/** What a component's callback says about one attempt (API.md "Callbacks"). */
export type CallbackOutcome =
  { kind: 'complete'; output: unknown } | { kind: 'fail'; error: { message: string; code?: string }; retryable: boolean }

type Waiter = { attempt: number; settle: (outcome: CallbackOutcome) => void }

/** A failure reported by a callback, as the task runner throws it (retryable unless the component said otherwise). */
export function outcomeError(outcome: Extract<CallbackOutcome, { kind: 'fail' }>): Error {
  const { message, code } = outcome.error
  if (!outcome.retryable) return new TerminalTaskError(message, code === undefined ? {} : { code })
  return Object.assign(new Error(message), code === undefined ? {} : { code })
}

/**
 * Attempts waiting for their callback, by execution and task. A callback may arrive before the attempt has recorded
 * the component's 202 (the component answered fast): it is held for that attempt and taken when the wait begins.
 * Only the current attempt's callback counts; whoever delivers has checked that (see the callback service).
 */
export function createCallbacks() {
  const waiting = new Map<string, Waiter>()
  const held = new Map<string, { attempt: number; outcome: CallbackOutcome }>()
  const key = (executionId: string, taskId: string) => `${executionId}\u0000${taskId}`

  return {
    /** Resolves with the callback's output or throws its failure; rejects with the signal's reason on abort. */
    wait(executionId: string, taskId: string, attempt: number, signal: AbortSignal): Promise<unknown> {
      const k = key(executionId, taskId)
      return new Promise<unknown>((resolve, reject) => {
        const settle = (outcome: CallbackOutcome) => {
          signal.removeEventListener('abort', onAbort)
          if (waiting.get(k)?.settle === settle) waiting.delete(k)
          if (outcome.kind === 'complete') resolve(outcome.output)
          else reject(outcomeError(outcome))
        }
        const onAbort = () => {
          if (waiting.get(k)?.settle === settle) waiting.delete(k)
          reject(signal.reason as Error)
        }
        if (signal.aborted) return onAbort()
        const early = held.get(k)
        held.delete(k)
        if (early?.attempt === attempt) return settle(early.outcome)
        waiting.set(k, { attempt, settle })
        signal.addEventListener('abort', onAbort, { once: true })
      })
    },
    /** Hands a callback to its attempt: `delivered` to a waiting attempt, `held` for one whose call is in flight. */
    deliver(executionId: string, taskId: string, attempt: number, outcome: CallbackOutcome): 'delivered' | 'held' {
      const k = key(executionId, taskId)
      const waiter = waiting.get(k)
      if (waiter?.attempt === attempt) {
        waiter.settle(outcome)
        return 'delivered'
      }
      held.set(k, { attempt, outcome })
      return 'held'
    },
    /** The attempt ended (any way): nothing held for it may complete a later one. */
    forget(executionId: string, taskId: string, attempt: number): void {
      const k = key(executionId, taskId)
      if (held.get(k)?.attempt === attempt) held.delete(k)
    },
  }
}
export type Callbacks = ReturnType<typeof createCallbacks>
