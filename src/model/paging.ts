import { ValidationError, type FieldError } from '../errors.js'
import type { ListQuery, Page } from './resources.js'

/** API.md "Lists": `limit` (default 50, at most 1000) and `offset`. */
export const DEFAULT_LIST_LIMIT = 50
export const MAX_LIST_LIMIT = 1000

export type PageRequest = { limit: number; offset: number }

/** The page a list query asks for, with defaults; a 422 naming `limit` or `offset` when out of range. */
export function pageRequest(query: ListQuery): PageRequest {
  const limit = query.limit ?? DEFAULT_LIST_LIMIT
  const offset = query.offset ?? 0
  const errors: FieldError[] = []
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
    errors.push({ path: 'limit', message: `must be an integer from 1 to ${MAX_LIST_LIMIT}` })
  if (!Number.isInteger(offset) || offset < 0) errors.push({ path: 'offset', message: 'must be a non-negative integer' })
  if (errors.length > 0) throw new ValidationError(errors, 'Invalid list query')
  return { limit, offset }
}

/** A store's page (items and total) as the wire's page, mapping each item. */
export function toPage<R, T>(result: { items: R[]; total: number }, request: PageRequest, map: (item: R) => T): Page<T> {
  return { items: result.items.map(map), total: result.total, limit: request.limit, offset: request.offset }
}
