import type { ListQuery } from './resources.js'

/** One state-changing request, as the audit trail keeps it (API.md "Roles, audit and limits"). */
export type AuditRecord = {
  audit_id: string
  time: string
  /** `<role>:<token hash>`, `component:<name>` for a signed callback, or `anonymous` when auth is off. Never a token. */
  actor: string
  /** What was done: `execution.pause`, `workflow.update`, `component.create`, … */
  action: string
  method: string
  path: string
  /** The resource acted on; for a create, the resource created. */
  target_id: string | null
  /** The HTTP status answered. */
  status: number
}

export type AuditQuery = ListQuery & { target_id?: string; actor?: string }
