import type { RowFact } from '../machines/events.js'
import type { ErrorInfo } from '../model/events.js'
import { getOwn, setOwn } from '../json.js'
import type { Execution, TaskExecution } from '../model/resources.js'

/**
 * How facts change an execution's row and its task rows. The one place that maps the event log to the state a client
 * reads, so that `GET /executions/{id}` and the event stream can never disagree. Mutates `execution`.
 */
export function applyFact(execution: Execution, fact: RowFact, at: string): void {
  if (fact.type === 'task.status') {
    taskOf(execution, fact.taskId).status = fact.status
    return
  }
  const data = fact.data
  if (fact.taskId !== undefined) {
    const task = taskOf(execution, fact.taskId)
    switch (fact.event) {
      case 'task_started':
        task.status = 'running'
        task.attempts = Number(data.attempt)
        task.retries = Math.max(0, task.attempts - 1)
        task.start_time ??= at
        if ('input' in data) task.input = data.input
        return
      case 'task_retrying':
        task.status = 'retrying'
        task.error = data.error as ErrorInfo
        return
      case 'task_completed':
        task.status = 'completed'
        task.output = data.output ?? null
        task.error = null
        task.end_time = at
        return
      case 'task_failed':
        task.status = 'failed'
        task.error = data.error as ErrorInfo
        task.end_time = at
        return
      case 'task_skipped':
        task.status = 'skipped'
        task.error = null
        task.end_time = at
        return
      case 'task_canceled':
        task.status = 'canceled'
        task.end_time = at
        return
      default:
        return
    }
  }
  switch (fact.event) {
    case 'workflow_started':
      execution.status = 'running'
      execution.start_time ??= at
      return
    case 'workflow_paused':
      execution.status = 'paused'
      return
    case 'workflow_resumed':
      execution.status = 'running'
      return
    case 'workflow_completed':
      execution.status = 'completed'
      execution.output = data.output ?? null
      execution.end_time = at
      return
    case 'workflow_failed':
      execution.status = 'failed'
      execution.error = (data.error as ErrorInfo | undefined) ?? null
      execution.end_time = at
      return
    case 'workflow_canceled':
      execution.status = 'canceled'
      execution.end_time = at
      return
    default:
      return
  }
}

/** A task row before its first attempt. */
export function newTaskExecution(taskId: string): TaskExecution {
  return {
    task_id: taskId,
    status: 'pending',
    start_time: null,
    end_time: null,
    input: null,
    output: null,
    error: null,
    retries: 0,
    attempts: 0,
  }
}

function taskOf(execution: Execution, taskId: string): TaskExecution {
  let task = getOwn(execution.task_executions, taskId)
  if (!task) {
    task = newTaskExecution(taskId)
    setOwn(execution.task_executions, taskId, task)
  }
  return task
}
