import { isDeepStrictEqual } from 'node:util'
import type { CallbackOutcome } from '../actors/callbacks.js'
import type { ComponentRegistry } from '../components/registry.js'
import { verifySignature } from '../components/signature.js'
import { ConflictError, NotFoundError, UnauthorizedError } from '../errors.js'
import { assertStorable } from '../json.js'
import { CompleteTaskSchema, FailTaskSchema } from '../model/component.schema.js'
import { parseWith } from '../model/parse.js'
import type { Execution, TaskExecution } from '../model/resources.js'
import { isTerminalExecutionStatus } from '../model/status.js'
import { requireId, type ServiceContext } from './context.js'
import type { ExecutionService } from './executions.js'
import type { WorkflowService } from './workflows.js'

/**
 * How the caller proved who it is. `signature`: the two signature headers over `raw` (the body as received);
 * `trusted`: the request carried a valid bearer token, or auth is off (embedding code is trusted).
 */
export type CallbackAuth = {
  raw: string
  signature?: { timestamp: string | undefined; signature: string | undefined }
  trusted: boolean
  /** Told the component's name once its signature holds (the audit trail names it). */
  identify?: (component: string) => void
}

export type CallbackAnswer = { accepted: true; task_id: string; status: TaskExecution['status'] }

/** A repeat of the callback that settled this attempt (same outcome): answered again, changes nothing. */
function isRepeat(task: TaskExecution, outcome: CallbackOutcome, attempt: number | undefined): boolean {
  if (attempt !== undefined && attempt !== task.attempts) return false
  if (outcome.kind === 'complete') return task.status === 'completed' && isDeepStrictEqual(task.output ?? null, outcome.output ?? null)
  return (task.status === 'failed' || task.status === 'retrying') && task.error?.message === outcome.error.message
}

/** Callbacks: a component settles an attempt it answered 202 for (API.md "Callbacks"). */
export function createCallbackService(
  ctx: ServiceContext,
  deps: { workflows: WorkflowService; executions: ExecutionService; registry: ComponentRegistry },
) {
  /** The component's secret checks the signature; a component without one needs a bearer token. */
  function authenticate(component: string, auth: CallbackAuth): void {
    const entry = deps.registry.get(component)
    const secret = entry?.kind === 'remote' ? entry.remote.secret : null
    if (secret === null) {
      if (!auth.trusted) throw new UnauthorizedError(`component ${component} has no secret: authenticate the callback with a bearer token`)
      return
    }
    const check = verifySignature(secret, auth.raw, auth.signature ?? { timestamp: undefined, signature: undefined }, ctx.now())
    if (!check.ok) throw new UnauthorizedError(`callback for component ${component} refused: ${check.reason}`)
    auth.identify?.(component)
  }

  async function receive(executionId: string, taskId: string, outcome: CallbackOutcome, attempt: number | undefined, auth: CallbackAuth) {
    requireId('execution', executionId)
    const execution = await deps.executions.get(executionId)
    const { definition } = await deps.workflows.record(execution.workflow_id, execution.workflow_version)
    const task = definition.tasks.find((t) => t.id === taskId)
    if (!task) throw new NotFoundError(`task ${JSON.stringify(taskId)} of execution`, executionId)
    authenticate(task.component, auth)
    // Checked here, applied where the attempt runs: another node's attempt gets it through that node.
    if (ctx.cluster && !ctx.supervisor.isLive(executionId) && !isTerminalExecutionStatus(execution.status)) {
      return (await ctx.cluster.run(executionId, 'callback', { taskId, outcome, attempt: attempt ?? null })) as CallbackAnswer
    }
    return deliver(execution, taskId, outcome, attempt)
  }

  /** Hands the outcome to the attempt waiting for it, in this node (the execution is live here, or has ended). */
  async function deliver(execution: Execution, taskId: string, outcome: CallbackOutcome, attempt: number | undefined) {
    const executionId = execution.execution_id
    const live = ctx.supervisor.task(executionId, taskId)
    const answer = (status: TaskExecution['status']): CallbackAnswer => ({ accepted: true, task_id: taskId, status })
    if (live?.status === 'running') {
      if (attempt !== undefined && attempt !== live.attempts) {
        throw new ConflictError(`task ${taskId} is on attempt ${live.attempts}, not ${attempt}: the callback is for an old attempt`)
      }
      await ctx.supervisor.deliverCallback(executionId, taskId, live.attempts, outcome)
      return answer(
        ctx.supervisor.task(executionId, taskId)?.status ?? (await deps.executions.get(executionId)).task_executions[taskId]!.status,
      )
    }
    const stored = live ?? execution.task_executions[taskId]
    if (stored && isRepeat(stored, outcome, attempt)) return answer(stored.status)
    const status = stored?.status ?? 'pending'
    throw new ConflictError(
      `task ${taskId} is not waiting for a callback (it is ${status}${stored && stored.attempts > 0 ? `, attempt ${stored.attempts}` : ''})`,
    )
  }
  ctx.cluster?.handle('callback', async (executionId, args: { taskId: string; outcome: CallbackOutcome; attempt: number | null }) =>
    deliver(await deps.executions.get(executionId), args.taskId, args.outcome, args.attempt ?? undefined),
  )

  return {
    /** A component's result for the attempt waiting on it: 200 once accepted, 409 when no attempt waits for it. */
    async completeTask(
      executionId: string,
      taskId: string,
      body: unknown,
      auth: CallbackAuth = { raw: '', trusted: true },
    ): Promise<CallbackAnswer> {
      assertStorable(body, '')
      const parsed = parseWith(CompleteTaskSchema, body ?? {})
      return receive(executionId, taskId, { kind: 'complete', output: parsed.output ?? null }, parsed.attempt, auth)
    },
    /** A component's failure for the attempt waiting on it: retried per the task's policy unless `retryable: false`. */
    async failTask(
      executionId: string,
      taskId: string,
      body: unknown,
      auth: CallbackAuth = { raw: '', trusted: true },
    ): Promise<CallbackAnswer> {
      assertStorable(body, '')
      const parsed = parseWith(FailTaskSchema, body)
      const error =
        parsed.error.code === undefined ? { message: parsed.error.message } : { message: parsed.error.message, code: parsed.error.code }
      return receive(executionId, taskId, { kind: 'fail', error, retryable: parsed.retryable }, parsed.attempt, auth)
    },
  }
}
export type CallbacksApi = ReturnType<typeof createCallbackService>
