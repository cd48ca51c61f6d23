import type { Context } from 'hono'
import type { Harmonia } from '../../harmonia.js'
import { EXECUTION_STATUSES, type ExecutionStatus } from '../../model/status.js'
import { ValidationError } from '../../errors.js'
import type { BodyLimits } from '../body.js'

export type RouteDeps = { harmonia: Harmonia; limits: BodyLimits }

/** A query integer: absent → undefined; anything not a whole number → a 422 naming the parameter. */
export function queryInt(c: Context, name: string): number | undefined {
  const raw = c.req.query(name)
  if (raw === undefined || raw === '') return undefined
  if (!/^-?\d{1,15}$/.test(raw)) throw new ValidationError([{ path: name, message: `${name} must be an integer` }], 'Invalid query')
  return Number(raw)
}

export function queryStatus(c: Context): ExecutionStatus | undefined {
  const raw = c.req.query('status')
  if (raw === undefined || raw === '') return undefined
  if (!(EXECUTION_STATUSES as readonly string[]).includes(raw)) {
    throw new ValidationError([{ path: 'status', message: `status must be one of ${EXECUTION_STATUSES.join(', ')}` }], 'Invalid query')
  }
  return raw as ExecutionStatus
}

/** The list query common to every list route. */
export function listQuery(c: Context) {
  const limit = queryInt(c, 'limit')
  const offset = queryInt(c, 'offset')
  const filter = c.req.query('filter')
  return { ...(limit !== undefined ? { limit } : {}), ...(offset !== undefined ? { offset } : {}), ...(filter ? { filter } : {}) }
}

/** A JSON object body, or a 422 saying the body must be one. */
export function objectBody(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError([{ path: '', message: 'the body must be a JSON object' }])
  }
  return value as Record<string, unknown>
}
