import type { AnyActorRef } from 'xstate'
import { attemptInputOf, type AttemptInput, type AttemptOutcome, type TaskContext } from './task.machine.js'

/** One attempt as its component call sees it: the input, and a signal that aborts when the attempt is given up. */
export type AttemptCall = { readonly input: AttemptInput; readonly signal: AbortSignal }

/** One attempt's component call: resolves with the output or rejects with the failure; stops when `signal` aborts. */
export type AttemptRunner = (attempt: AttemptCall) => PromiseLike<unknown>

/**
 * An AbortSignal made the first time someone reads `signal`: most calls end without anyone listening, and creating an
 * AbortController costs about as much as the rest of a noop call. Aborted before it is read, it reads as aborted.
 */
export class LazyAbort {
  #controller: AbortController | null = null
  #aborted = false
  #reason: unknown = undefined

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController()
      if (this.#aborted) this.#abortController()
    }
    return this.#controller.signal
  }

  /** Without a reason the signal's reason is an AbortError, as for any aborted call. */
  abort(reason?: unknown): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason
    if (this.#controller) this.#abortController()
  }

  #abortController(): void {
    if (this.#reason === undefined) this.#controller!.abort()
    else this.#controller!.abort(this.#reason)
  }
}

/** An attempt in flight: its input, and its signal made on first use. */
class Attempt extends LazyAbort implements AttemptCall {
  constructor(readonly input: AttemptInput) {
    super()
  }
}

type ActionArgs = { context: TaskContext; self: AnyActorRef }

/**
 * The task machine's `startAttempt` and `abortAttempt` for a given component call (`taskMachine.provide({ actions:
 * attemptActions(run) })`). The attempt in flight is aborted when its state is left (timeout, cancel) and when the
 * actor is stopped: XState runs no exit action on stop, so the first attempt subscribes to the actor's end.
 */
export function attemptActions(run: AttemptRunner) {
  const inFlight = new WeakMap<AnyActorRef, Attempt>()
  const watched = new WeakSet<AnyActorRef>()
  const abort = (self: AnyActorRef) => {
    const attempt = inFlight.get(self)
    inFlight.delete(self)
    attempt?.abort()
  }

  return {
    startAttempt: ({ context, self }: ActionArgs) => {
      const number = context.attempt
      const attempt = new Attempt(attemptInputOf(context))
      if (!watched.has(self)) {
        watched.add(self)
        self.subscribe({ complete: () => abort(self), error: () => abort(self) })
      }
      inFlight.set(self, attempt)
      const settled = (outcome: AttemptOutcome) => {
        if (inFlight.get(self) !== attempt) return
        inFlight.delete(self)
        self.send(outcome)
      }
      // The call starts once the transition that started the attempt is over (as an invoked actor would): a handler
      // never runs inside the task actor's transition. One that throws instead of rejecting fails the attempt the same.
      // An attempt given up before its call started (canceled, stopped) is not started at all.
      Promise.resolve()
        .then(() => (inFlight.get(self) === attempt ? run(attempt) : undefined))
        .then(
          (output) => settled({ type: 'attempt.done', attempt: number, output }),
          (error: unknown) => settled({ type: 'attempt.failed', attempt: number, error }),
        )
    },
    abortAttempt: ({ self }: ActionArgs) => abort(self),
  }
}
