import { ValidationError } from './errors.js'

/**
 * JSON helpers every layer uses: the one plain-object test, own-property access that treats keys such as `__proto__`
 * as data, the path format of error messages (`tasks[2].depends_on[0]`), and the check that a value can be stored in
 * Postgres jsonb.
 */

/** A JSON object: not null, not an array. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Sets an own, enumerable property, also for the key `__proto__` (task ids and input keys are user data: a plain
 * assignment of `__proto__` would replace the prototype instead). Every other key of a plain object assigns safely.
 */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  else target[key] = value
}

/** The own property `key` of `source`, never an inherited one (`constructor`, `toString`, …). */
export function getOwn<T>(source: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(source, key) ? source[key] : undefined
}

// ---------------------------------------------------------------------------------------------------------------
// paths in error messages: `tasks[2].depends_on[0]`, `input.count`, `output["a b"]`

export type PathSegment = string | number

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/

/** Appends one segment to a path: numbers as `[n]`, identifier-like keys as `.key`, anything else as `["key"]`. */
export function appendPath(path: string, segment: PathSegment): string {
  if (typeof segment === 'number') return `${path}[${segment}]`
  if (!PLAIN_KEY.test(segment)) return `${path}[${JSON.stringify(segment)}]`
  return path === '' ? segment : `${path}.${segment}`
}

/** Formats a list of segments as a path (`['tasks', 2, 'id']` → `tasks[2].id`). */
export function formatPath(segments: readonly PathSegment[]): string {
  let path = ''
  for (const segment of segments) path = appendPath(path, segment)
  return path
}

/** Joins a path and a path relative to it (`tasks[0]` + `input.data` → `tasks[0].input.data`; either may be empty). */
export function joinPath(prefix: string, relative: string): string {
  if (prefix === '') return relative
  if (relative === '') return prefix
  return relative.startsWith('[') ? `${prefix}${relative}` : `${prefix}.${relative}`
}

// ---------------------------------------------------------------------------------------------------------------
// storable JSON: Postgres refuses NUL characters and unpaired surrogates in jsonb, so a value holding one would make
// a whole group commit fail. Values from clients and handlers are checked at the edge instead.

/** JSON.stringify escapes an unpaired UTF-16 surrogate as `\udXXX`; Postgres refuses such an escape in jsonb. */
const ESCAPED_LONE_SURROGATE =
  /\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}/
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Why serialised JSON cannot be stored in Postgres, or null when it can. */
export function unstorable(json: string): string | null {
  if (json.includes('\\u0000')) return 'the NUL character (\\u0000)'
  if (ESCAPED_LONE_SURROGATE.test(json)) return 'an unpaired UTF-16 surrogate'
  return null
}

/** Why one string cannot be stored, or null. */
function unstorableText(text: string): string | null {
  if (text.includes('\u0000')) return 'the NUL character (\\u0000)'
  if (LONE_SURROGATE.test(text)) return 'an unpaired UTF-16 surrogate'
  return null
}

/**
 * Throws a ValidationError naming the field when `value` is not storable JSON. The whole value is checked once as
 * text; only when that fails is it walked (iteratively) to name the string or key at fault (`name`, `tasks[0].input.x`).
 */
export function assertStorable(value: unknown, path: string): void {
  if (value === undefined) return
  let text: string
  try {
    text = JSON.stringify(value)
  } catch {
    throw new ValidationError([{ path, message: 'must be JSON' }])
  }
  if (unstorable(text) === null) return
  const stack: Array<{ value: unknown; path: string }> = [{ value, path }]
  while (stack.length > 0) {
    const at = stack.pop()!
    if (typeof at.value === 'string') {
      const why = unstorableText(at.value)
      if (why !== null) throw new ValidationError([{ path: at.path, message: `${at.path || 'the value'} must not contain ${why}` }])
    } else if (Array.isArray(at.value)) {
      at.value.forEach((item, i) => stack.push({ value: item, path: appendPath(at.path, i) }))
    } else if (isPlainObject(at.value)) {
      for (const [key, item] of Object.entries(at.value)) {
        const child = appendPath(at.path, key)
        const why = unstorableText(key)
        if (why !== null) throw new ValidationError([{ path: child, message: `the key ${child} must not contain ${why}` }])
        stack.push({ value: item, path: child })
      }
    }
  }
  throw new ValidationError([{ path, message: `must not contain ${unstorable(text)}` }])
}
