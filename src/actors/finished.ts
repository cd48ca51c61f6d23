import type { Logger } from '../logger.js'
import type { Execution } from '../model/resources.js'

/**
 * One warn line per execution that ended failed or canceled (an operator reading the server's log sees what went
 * wrong without querying): its id, workflow, and the first error — the first failed task in definition order, else
 * the execution's own error (a timeout, an output mapping).
 */
export function reportFinished(logger: Logger, execution: Execution): void {
  if (execution.status !== 'failed' && execution.status !== 'canceled') return
  const failed = Object.values(execution.task_executions).find((t) => t.status === 'failed' && t.error !== null)
  const fields: Record<string, unknown> = { execution_id: execution.execution_id, workflow_id: execution.workflow_id }
  if (failed) {
    fields.task_id = failed.task_id
    fields.error = failed.error!.message
    if (failed.error!.code !== undefined) fields.code = failed.error!.code
  } else if (execution.error) {
    fields.error = execution.error.message
    if (execution.error.code !== undefined) fields.code = execution.error.code
  }
  logger.warn(`execution ${execution.status}`, fields)
}
