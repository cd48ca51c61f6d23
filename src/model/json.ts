import { ValidationError } from '../errors.js'

/**
 * Postgres cannot store the NUL character in jsonb (nor in text), so a value holding one would make a whole group
 * commit fail. Values from clients and handlers are checked at the edge instead.
 */
export function hasNul(json: string): boolean {
  return json.includes('\\u0000')
}

/** Throws a ValidationError naming `path` when `value` is not storable JSON. */
export function assertStorable(value: unknown, path: string): void {
  if (value === undefined) return
  let text: string
  try {
    text = JSON.stringify(value)
  } catch {
    throw new ValidationError([{ path, message: 'must be JSON' }])
  }
  if (hasNul(text)) throw new ValidationError([{ path, message: 'must not contain the NUL character (\\u0000)' }])
}
