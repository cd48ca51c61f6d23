import { ValidationError } from '../errors.js'

/**
 * Postgres cannot store the NUL character in jsonb (nor in text), so a value holding one would make a whole group
 * commit fail. Values from clients and handlers are checked at the edge instead.
 */
export function hasNul(json: string): boolean {
  return json.includes('\\u0000')
}

/** JSON.stringify escapes an unpaired UTF-16 surrogate as `\udXXX`; Postgres refuses such an escape in jsonb. */
const ESCAPED_LONE_SURROGATE =
  /\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}/

/** Why serialised JSON cannot be stored in Postgres, or null when it can. */
export function unstorable(json: string): string | null {
  if (hasNul(json)) return 'the NUL character (\\u0000)'
  if (ESCAPED_LONE_SURROGATE.test(json)) return 'an unpaired UTF-16 surrogate'
  return null
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
  const why = unstorable(text)
  if (why !== null) throw new ValidationError([{ path, message: `must not contain ${why}` }])
}

/**
 * Sets an own, enumerable property even for keys such as `__proto__` (task ids are user data: `obj[id] = v` would set
 * the prototype instead).
 */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

/** The own property `key` of `source`, never an inherited one (`constructor`, `toString`, …). */
export function getOwn<T>(source: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(source, key) ? source[key] : undefined
}
