import type { AnyActorRef } from 'xstate'
import { attemptInputOf, type AttemptInput, type AttemptOutcome, type TaskContext } from './task.machine.js'

/** One attempt's component call: resolves with the output or rejects with the failure; stops when `signal` aborts. */
export type AttemptRunner = (args: { input: AttemptInput; signal: AbortSignal }) => PromiseLike<unknown>

type ActionArgs = { context: TaskContext; self: AnyActorRef }

/**
 * The task machine's `startAttempt` and `abortAttempt` for a given component call (`taskMachine.provide({ actions:
 * attemptActions(run) })`). The attempt in flight is aborted when its state is left (timeout, cancel) and when the
 * actor is stopped: XState runs no exit action on stop, so the first attempt subscribes to the actor's end.
 */
export function attemptActions(run: AttemptRunner) {
  const inFlight = new WeakMap<AnyActorRef, AbortController>()
  const watched = new WeakSet<AnyActorRef>()
  const abort = (self: AnyActorRef) => {
    const controller = inFlight.get(self)
    inFlight.delete(self)
    // No reason given: the signal's reason is an AbortError, as for any aborted call.
    controller?.abort()
  }

  return {
    startAttempt: ({ context, self }: ActionArgs) => {
      const attempt = context.attempt
      const controller = new AbortController()
      if (!watched.has(self)) {
        watched.add(self)
        self.subscribe({ complete: () => abort(self), error: () => abort(self) })
      }
      inFlight.set(self, controller)
      const settled = (outcome: AttemptOutcome) => {
        if (inFlight.get(self) !== controller) return
        inFlight.delete(self)
        self.send(outcome)
      }
      // The executor runs the call at once; a call that throws instead of rejecting fails the attempt all the same.
      new Promise<unknown>((resolve) => resolve(run({ input: attemptInputOf(context), signal: controller.signal }))).then(
        (output) => settled({ type: 'attempt.done', attempt, output }),
        (error: unknown) => settled({ type: 'attempt.failed', attempt, error }),
      )
    },
    abortAttempt: ({ self }: ActionArgs) => abort(self),
  }
}
