import { and, assign, cancel, emit, enqueueActions, setup } from 'xstate'
import { toTaskFailure, type TaskFailure } from '../errors.js'
import type { RetryPolicy } from '../model/definition.js'
import { backoffMs, nextRandom } from './backoff.js'
import type { FanOutSpec } from './fan-out.js'

/**
 * One task's life: attempts, a timeout per attempt, retries with exponential backoff and jitter, pause and cancel.
 * Pure: the component call is provided by the runtime as two actions (`startAttempt`, `abortAttempt`; see
 * attempts.ts), and its outcome comes back as `attempt.done` / `attempt.failed` naming the attempt. An invoked promise
 * actor would do the same at the cost of a second actor per attempt, which was a fifth of a task's CPU time.
 * Time reaches the machine only through XState's clock (`after`), randomness through the PRNG state in context.
 *
 * States (each one a task status of src/model/status.ts; `pending` and `skipped` tasks have no actor — they are
 * records of the execution supervisor, which spawns a task actor straight into `running`):
 *   running  → an attempt is in flight
 *   retrying → an attempt failed and the backoff runs
 *   paused   → the execution is paused; no attempt starts until `task.resume`
 *   completed | failed | canceled (final)
 */

export type TaskInput = {
  executionId: string
  workflowId: string
  taskId: string
  component: string
  action: string
  /** The input resolved from expressions at spawn time. */
  input: unknown
  policy: RetryPolicy
  /** Milliseconds per attempt; absent means no timeout. */
  timeoutMs?: number
  /** PRNG state for jitter; the runtime seeds it from its random source. */
  seed: number
  /** Attempts already made (a recovered task keeps its count). */
  attempt?: number
  /**
   * The actor's first attempt resumes a wait for its callback (recovered after a restart: the component already
   * answered 202), with this much of its timeout left. The component is not called again.
   */
  resume?: { timeoutMs?: number }
  /** A fan-out: the attempt runs every element (`input` is the list of their inputs). */
  fanOut?: FanOutSpec
}

export type TaskContext = {
  executionId: string
  workflowId: string
  taskId: string
  component: string
  action: string
  input: unknown
  policy: RetryPolicy
  timeoutMs: number | undefined
  rng: number
  attempt: number
  backoffMs: number
  pauseRequested: boolean
  /** The first attempt of this actor's life: its start is announced by the spawning parent, not reported back. */
  firstAttempt: number
  /** See TaskInput.resume: applies to `firstAttempt` only. */
  resume: { timeoutMs?: number } | null
  fanOut: FanOutSpec | null
  output: unknown
  error: TaskFailure | null
  outcome: TaskOutput['status'] | null
}

/** What the component call receives: everything a handler's context is built from. */
export type AttemptInput = {
  executionId: string
  workflowId: string
  taskId: string
  component: string
  action: string
  input: unknown
  attempt: number
  /** This attempt's timeout, ms (absent: none). */
  timeoutMs?: number
  /** Resume the wait for this attempt's callback instead of calling the component (recovered after a restart). */
  awaitingCallback: boolean
  /** A fan-out: run every element (`input` is the list of their inputs). */
  fanOut?: FanOutSpec
  /** One element of a fan-out (set by the fan-out runner, never by this machine). */
  index?: number
}

/** The outcome of an attempt, sent to the task actor by the runtime's `startAttempt`; a stale attempt's is ignored. */
export type AttemptOutcome = { type: 'attempt.done'; attempt: number; output: unknown } | { type: 'attempt.failed'; attempt: number; error: unknown }

export type TaskCommand =
  | AttemptOutcome
  | { type: 'task.timeout' }
  | { type: 'task.retry' }
  | { type: 'task.pause' }
  | { type: 'task.resume' }
  | { type: 'task.cancel'; reason?: string }

/** Reports a task actor sends to its parent (and emits, for a standalone actor). */
export type TaskReport =
  | { type: 'task.started'; taskId: string; attempt: number; /** The spawner already announced this attempt. */ announced: boolean }
  | { type: 'task.retrying'; taskId: string; attempt: number; error: TaskFailure; delayMs: number }
  | { type: 'task.paused'; taskId: string; attempt: number; error: TaskFailure | null }
  | { type: 'task.resumed'; taskId: string; attempt: number; /** The backoff that starts over. */ delayMs: number }

export type TaskOutput = {
  taskId: string
  status: 'completed' | 'failed' | 'canceled'
  attempt: number
  output: unknown
  error: TaskFailure | null
}

type ReportParams = { kind: 'started' | 'retrying' | 'paused' | 'resumed' }

function reportOf(context: TaskContext, kind: ReportParams['kind']): TaskReport {
  switch (kind) {
    case 'started':
      return { type: 'task.started', taskId: context.taskId, attempt: context.attempt, announced: context.attempt === context.firstAttempt }
    case 'retrying':
      return { type: 'task.retrying', taskId: context.taskId, attempt: context.attempt, error: context.error!, delayMs: context.backoffMs }
    case 'paused':
      return { type: 'task.paused', taskId: context.taskId, attempt: context.attempt, error: context.error }
    case 'resumed':
      return { type: 'task.resumed', taskId: context.taskId, attempt: context.attempt, delayMs: context.backoffMs }
  }
}

/** Whether the current attempt resumes a wait for its callback (the actor's first attempt after a restart). */
const resumes = (context: TaskContext): boolean => context.resume !== null && context.attempt === context.firstAttempt

/** The current attempt's timeout: what is left of it for a resumed wait, else the task's. */
const attemptTimeoutMs = (context: TaskContext): number | undefined =>
  resumes(context) && context.resume!.timeoutMs !== undefined ? context.resume!.timeoutMs : context.timeoutMs

/** What the component call of the current attempt receives. */
export function attemptInputOf(context: TaskContext): AttemptInput {
  const timeoutMs = attemptTimeoutMs(context)
  return {
    executionId: context.executionId,
    workflowId: context.workflowId,
    taskId: context.taskId,
    component: context.component,
    action: context.action,
    input: context.input,
    attempt: context.attempt,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    awaitingCallback: resumes(context),
    ...(context.fanOut ? { fanOut: context.fanOut } : {}),
  }
}

const failureOf = (context: TaskContext, error: unknown): TaskFailure => toTaskFailure(error, context.policy.non_retryable_errors)
const errorOf = (event: unknown): unknown => (event as { error?: unknown }).error

export const taskMachine = setup({
  types: {
    input: {} as TaskInput,
    context: {} as TaskContext,
    events: {} as TaskCommand,
    emitted: {} as TaskReport,
    output: {} as TaskOutput,
  },
  guards: {
    currentAttempt: ({ context, event }) => (event as AttemptOutcome).attempt === context.attempt,
    attemptsLeft: ({ context }) => context.attempt < context.policy.max_attempts,
    retryableError: ({ context, event }) => failureOf(context, errorOf(event)).retryable,
    pauseRequested: ({ context }) => context.pauseRequested,
  },
  delays: {
    backoff: ({ context }) => context.backoffMs,
  },
  actions: {
    // The runtime provides the component call via taskMachine.provide({ actions: attemptActions(run) }); this default
    // keeps the machine runnable alone (every attempt fails).
    startAttempt: ({ context, self }) => {
      const attempt = context.attempt
      queueMicrotask(() => self.send({ type: 'attempt.failed', attempt, error: new Error('startAttempt is not provided') }))
    },
    // An action declared with no parameter defeats setup()'s type inference: hence the unused `_`.
    abortAttempt: (_) => {},
    // A parent (the execution supervisor) gets every report; a standalone actor emits them for `actor.on()`.
    report: enqueueActions(({ enqueue, context, self }, params: ReportParams) => {
      const report = reportOf(context, params.kind)
      enqueue(emit(report))
      // Saves the parent one event per task: it announced the first attempt when it spawned this actor.
      if (self._parent && !(report.type === 'task.started' && report.announced)) enqueue.sendParent(report)
    }),
    beginAttempt: assign({ attempt: ({ context }) => context.attempt + 1, error: null }),
    armTimeout: enqueueActions(({ context, enqueue }) => {
      const ms = attemptTimeoutMs(context)
      if (ms !== undefined) enqueue.raise({ type: 'task.timeout' }, { id: 'attemptTimeout', delay: ms })
    }),
    recordOutput: assign({ output: ({ event }) => (event as unknown as { output: unknown }).output ?? null, error: null }),
    recordError: assign({ error: ({ context, event }) => failureOf(context, errorOf(event)) }),
    recordTimeout: assign({
      error: ({ context }) => ({
        message: `attempt ${context.attempt} timed out after ${(context.timeoutMs ?? 0) / 1000}s`,
        code: 'timeout',
        retryable: true,
      }),
    }),
    recordCancel: assign({
      error: ({ event }) => ({ message: (event as { reason?: string }).reason ?? 'canceled', code: 'canceled', retryable: false }),
    }),
    drawBackoff: assign(({ context }) => {
      const draw = nextRandom(context.rng)
      // A server that said when to come back (Retry-After) is not called sooner.
      const asked = context.error?.retry_after_ms ?? 0
      return { rng: draw.state, backoffMs: Math.max(asked, backoffMs(context.policy, context.attempt, draw.value)) }
    }),
    requestPause: assign({ pauseRequested: true }),
    clearPause: assign({ pauseRequested: false }),
    settle: assign((_, params: { outcome: TaskOutput['status'] }) => ({ outcome: params.outcome })),
  },
}).createMachine({
  id: 'task',
  context: ({ input }) => ({
    executionId: input.executionId,
    workflowId: input.workflowId,
    taskId: input.taskId,
    component: input.component,
    action: input.action,
    input: input.input,
    policy: input.policy,
    timeoutMs: input.timeoutMs,
    rng: input.seed >>> 0,
    attempt: input.attempt ?? 0,
    backoffMs: 0,
    pauseRequested: false,
    firstAttempt: (input.attempt ?? 0) + 1,
    resume: input.resume ?? null,
    fanOut: input.fanOut ?? null,
    output: null,
    error: null,
    outcome: null,
  }),
  initial: 'running',
  states: {
    running: {
      entry: ['beginAttempt', 'armTimeout', { type: 'report', params: { kind: 'started' } }, 'startAttempt'],
      // The attempt timeout is a delayed event raised only when a timeout is set (no timer otherwise).
      exit: ['abortAttempt', cancel('attemptTimeout')],
      on: {
        'attempt.done': { guard: 'currentAttempt', target: 'completed', actions: 'recordOutput' },
        'attempt.failed': [
          {
            guard: and(['currentAttempt', 'retryableError', 'attemptsLeft', 'pauseRequested']),
            target: 'paused',
            actions: ['recordError', 'drawBackoff', { type: 'report', params: { kind: 'retrying' } }],
          },
          {
            guard: and(['currentAttempt', 'retryableError', 'attemptsLeft']),
            target: 'retrying',
            actions: ['recordError', 'drawBackoff', { type: 'report', params: { kind: 'retrying' } }],
          },
          { guard: 'currentAttempt', target: 'failed', actions: 'recordError' },
        ],
        'task.timeout': [
          {
            guard: and(['attemptsLeft', 'pauseRequested']),
            target: 'paused',
            actions: ['recordTimeout', 'drawBackoff', { type: 'report', params: { kind: 'retrying' } }],
          },
          {
            guard: 'attemptsLeft',
            target: 'retrying',
            actions: ['recordTimeout', 'drawBackoff', { type: 'report', params: { kind: 'retrying' } }],
          },
          { target: 'failed', actions: 'recordTimeout' },
        ],
        // Pause lets the running attempt finish; only what follows it is held.
        'task.pause': { actions: 'requestPause' },
        'task.resume': { actions: 'clearPause' },
      },
    },
    retrying: {
      always: { guard: 'pauseRequested', target: 'paused' },
      // No report on entry: `task_retrying` is reported once per failed attempt, on the transition that decides the
      // retry; a resume re-enters this state and announces only the status change (`task.resumed`).
      after: { backoff: 'running' },
      // XState does not persist delayed events: a restored actor is woken by the runtime's durable timer instead.
      on: { 'task.pause': { target: 'paused', actions: 'requestPause' }, 'task.retry': 'running' },
    },
    paused: {
      entry: { type: 'report', params: { kind: 'paused' } },
      // Only a failed attempt leads here, so resuming always means: run the backoff again, then retry.
      on: { 'task.resume': { target: 'retrying', actions: ['clearPause', { type: 'report', params: { kind: 'resumed' } }] } },
    },
    completed: { type: 'final', entry: { type: 'settle', params: { outcome: 'completed' } } },
    failed: { type: 'final', entry: { type: 'settle', params: { outcome: 'failed' } } },
    canceled: { type: 'final', entry: { type: 'settle', params: { outcome: 'canceled' } } },
  },
  on: {
    'task.cancel': { target: '.canceled', actions: 'recordCancel' },
  },
  output: ({ context }): TaskOutput => ({
    taskId: context.taskId,
    status: context.outcome ?? 'canceled',
    attempt: context.attempt,
    output: context.output,
    error: context.outcome === 'completed' ? null : context.error,
  }),
})
