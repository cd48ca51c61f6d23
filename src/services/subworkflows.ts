import type { Component, HandlerContext } from '../components/handler.js'
import type { WorkflowRecord } from '../db/store.js'
import { InvalidTransitionError, NotFoundError, TerminalTaskError, ValidationError } from '../errors.js'
import { isPlainObject } from '../json.js'
import { uuidv7 } from '../model/ids.js'
import { resolveWorkflowInput } from '../model/input.js'
import type { Execution } from '../model/resources.js'
import { isTerminalExecutionStatus } from '../model/status.js'
import { assertRunnableDirectly } from '../model/template.js'
import type { ServiceContext } from './context.js'
import type { ExecutionService } from './executions.js'
import type { WorkflowService } from './workflows.js'

/** How many sub-workflow levels may sit below a top-level execution (API.md "Sub-workflows"). */
export const MAX_DEPTH = 10

const fail = (message: string, code: string) => new TerminalTaskError(message, { code })

type Request = { workflow_id?: unknown; version?: unknown; definition?: unknown; input?: unknown }

/**
 * `harmonia.run_workflow`: starts a child execution — of a stored workflow (`{workflow_id, version?}`) or of a
 * definition produced at run time (`{definition}`, validated like a created workflow) — and completes with its output
 * or fails with its error. The child's id is recorded on the parent's task row before the child is started, so a
 * restart at any moment finds it and never starts a second one. Canceling the attempt cancels the child.
 */
export function createSubWorkflowComponent(
  ctx: ServiceContext,
  deps: { workflows: WorkflowService; executions: ExecutionService },
): Component {
  const { supervisor } = ctx

  /** The link of a live execution from memory (its rows may not be committed yet), else from the store. */
  const parentOf = async (executionId: string) => {
    const live = supervisor.parentOf(executionId)
    return live !== undefined ? live : (await deps.executions.get(executionId)).parent
  }

  async function depthOf(executionId: string): Promise<number> {
    let depth = 0
    let parent = await parentOf(executionId)
    while (parent && depth <= MAX_DEPTH) {
      depth++
      parent = await parentOf(parent.execution_id)
    }
    return depth
  }

  /** The workflow to run: a stored one, or the inline definition stored as a workflow of its own. */
  async function workflowOf(request: Request, ctxTask: HandlerContext): Promise<WorkflowRecord> {
    if (request.definition !== undefined) {
      try {
        const created = await deps.workflows.api.createWorkflow(withProvenance(request.definition, ctxTask))
        return await deps.workflows.record(created.workflow_id, created.version)
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error
        const paths = error.errors.map((e) => `${e.path ? `definition.${e.path}` : 'definition'}: ${e.message}`)
        throw fail(`the generated workflow definition is not valid: ${paths.join('; ')}`, 'invalid_definition')
      }
    }
    if (typeof request.workflow_id !== 'string') throw fail('harmonia.run_workflow needs workflow_id or definition', 'invalid_input')
    const version = typeof request.version === 'number' ? request.version : undefined
    try {
      return await deps.workflows.record(request.workflow_id, version)
    } catch (error) {
      if (error instanceof NotFoundError) throw fail(error.message, 'workflow_not_found')
      throw error
    }
  }

  /**
   * Refuses, before any child id is recorded, a child that could never start: its input fails the workflow's input
   * description, or the workflow is a template source. Retrying would not help, so the task fails for good.
   */
  function assertStartable(workflow: WorkflowRecord, input: unknown): void {
    try {
      assertRunnableDirectly(workflow.definition)
      resolveWorkflowInput(workflow.definition.input, input)
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error
      const details = error.errors.map((e) => e.message).join('; ')
      throw fail(`the sub-workflow ${workflow.workflowId} cannot start: ${details}`, 'invalid_input')
    }
  }

  /**
   * A pause of the parent that came before the child was linked found no child to carry over to: the child starts
   * paused instead. Checked once more after pausing it, in case a resume of the parent slipped in between.
   */
  async function followPause(parentId: string, childId: string): Promise<void> {
    const parentPaused = async () => {
      await supervisor.flushed()
      return (await deps.executions.get(parentId)).status === 'paused'
    }
    if (!(await parentPaused())) return
    const quiet = (error: unknown) => {
      if (!(error instanceof InvalidTransitionError || error instanceof NotFoundError)) throw error
    }
    await deps.executions.api.pauseExecution(childId).catch(quiet)
    if (!(await parentPaused())) await deps.executions.api.resumeExecution(childId).catch(quiet)
  }

  /** Waits for the child; an abort of the attempt (cancel, timeout) cancels it first. */
  async function outcomeOf(childId: string, signal: AbortSignal): Promise<Execution> {
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () => reject(signal.reason as Error)
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
    try {
      return await Promise.race([deps.executions.api.waitForExecution(childId), aborted])
    } catch (error) {
      if (signal.aborted) await deps.executions.api.cancelExecution(childId).catch(() => undefined)
      throw error
    }
  }

  return {
    run_workflow: async (input: unknown, task: HandlerContext) => {
      if (!isPlainObject(input)) throw fail('harmonia.run_workflow: the input must be an object', 'invalid_input')
      const request = input as Request
      // A fan-out element's child is found by its link (the task row holds one child, not one per element).
      const element = task.index === undefined ? undefined : { execution_id: task.executionId, task_id: task.taskId, index: task.index }
      const linked = element
        ? await ctx.store.executions.childOf(element)
        : supervisor.task(task.executionId, task.taskId)?.child_execution_id
      let childId = linked
      const existing = linked === undefined ? undefined : await deps.executions.get(linked).catch(() => undefined)
      // A child that failed or was canceled belongs to an earlier attempt: this attempt starts a new one.
      const reusable = existing && !(isTerminalExecutionStatus(existing.status) && existing.status !== 'completed')
      if (!reusable) {
        if ((await depthOf(task.executionId)) + 1 > MAX_DEPTH) {
          throw fail(`sub-workflows nest at most ${MAX_DEPTH} levels below the top execution`, 'depth_exceeded')
        }
        const workflow = await workflowOf(request, task)
        assertStartable(workflow, request.input ?? {})
        childId = linked !== undefined && !existing ? linked : uuidv7()
        if (!element) await supervisor.linkChild(task.executionId, task.taskId, childId)
        await deps.executions.startChild({
          execution_id: childId,
          workflow,
          input: request.input ?? {},
          parent: element ?? { execution_id: task.executionId, task_id: task.taskId },
          traceparent: task.traceparent,
        })
        await followPause(task.executionId, childId)
      }
      const child = await outcomeOf(childId!, task.signal)
      if (child.status === 'completed') return child.output
      // The child's first failed task says more than its summary ("task failed: x").
      const failedTask = Object.values(child.task_executions).find((t) => t.status === 'failed' && t.error)
      const error = failedTask?.error ?? child.error
      const where = failedTask ? `task ${failedTask.task_id}: ` : ''
      const code = child.status === 'canceled' ? 'child_canceled' : (error?.code ?? 'child_failed')
      throw fail(`sub-workflow ${childId} ${child.status}${error ? `: ${where}${error.message}` : ''}`, code)
    },
  }
}

/** A generated definition is stored as a workflow that says where it came from. */
function withProvenance(definition: unknown, task: HandlerContext): unknown {
  if (!isPlainObject(definition)) return definition
  const metadata = isPlainObject(definition.metadata) ? definition.metadata : {}
  return { ...definition, metadata: { ...metadata, generated_by: { execution_id: task.executionId, task_id: task.taskId } } }
}
