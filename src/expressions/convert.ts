/**
 * Conversion between JSON values and CEL values.
 *
 * Going in (toCel):
 * - a whole number that is a safe integer becomes a CEL `int` (bigint), so `count * 2` and `n == 3` work; any other
 *   number stays a CEL `double`;
 * - objects become `Map`s. A Map has no prototype chain to walk and no `constructor` to confuse cel-js's type
 *   detection, so keys such as `__proto__` or `constructor` are plain data;
 * - `undefined` object entries are dropped and `undefined` array items become null, as in JSON.stringify.
 *
 * Coming out (fromCel):
 * - an `int` becomes a JSON number when it is a safe integer and a decimal string otherwise (exact, and JSON has no
 *   bigint); a non-finite double (`1.0 / 0.0`) is an evaluation error, since JSON cannot hold it;
 * - bytes become base64 strings, timestamps ISO-8601 strings, durations strings such as `"90s"`, types their name.
 */
import { setOwn } from '../json.js'

export type PathTrie = {
  /** The value at this path is used as a whole (or indexed dynamically): convert all of it. */
  whole: boolean
  /** Only these keys are read below this path. */
  children: Map<string, PathTrie>
}

export class NonJsonResultError extends Error {}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER)
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** Converts a JSON value (or anything JSON.stringify accepts) to the CEL value model. */
export function toCel(value: unknown): unknown {
  switch (typeof value) {
    case 'number':
      return Number.isSafeInteger(value) ? BigInt(value) : value
    case 'string':
    case 'boolean':
    case 'bigint':
      return value
    case 'object':
      if (value === null) return null
      if (Array.isArray(value)) return value.map(toCelItem)
      return objectToMap(value)
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined
  }
}

function toCelItem(value: unknown): unknown {
  const converted = toCel(value)
  return converted === undefined ? null : converted
}

function objectToMap(value: object): unknown {
  const json = jsonOf(value)
  if (json !== value) return toCel(json)
  const map = new Map<string, unknown>()
  if (value instanceof Map) {
    for (const [key, item] of value as Map<unknown, unknown>) {
      const converted = toCel(item)
      if (converted !== undefined) map.set(String(key), converted)
    }
    return map
  }
  for (const key of Object.keys(value)) {
    const converted = toCel((value as Record<string, unknown>)[key])
    if (converted !== undefined) map.set(key, converted)
  }
  return map
}

/** Honours `toJSON` (Dates and friends) the way JSON.stringify does. */
function jsonOf(value: object): unknown {
  const toJSON = (value as { toJSON?: unknown }).toJSON
  return typeof toJSON === 'function' ? (toJSON as () => unknown).call(value) : value
}

/**
 * Converts only the parts of `value` that an expression reads. `trie` lists the static paths used
 * (`input.a.b` → a → b); everything under a path used as a whole is converted in full. Keys that are
 * absent stay absent, so CEL reports them as missing and `has()` stays truthful.
 */
export function toCelPruned(value: unknown, trie: PathTrie): unknown {
  if (trie.whole || value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Map) return toCel(value)
  const json = jsonOf(value)
  if (json !== value) return toCelPruned(json, trie)
  const map = new Map<string, unknown>()
  const record = value as Record<string, unknown>
  for (const [key, child] of trie.children) {
    if (!Object.hasOwn(record, key)) continue
    const converted = toCelPruned(record[key], child)
    if (converted !== undefined) map.set(key, converted)
  }
  return map
}

/** Converts a CEL result back to JSON. Throws NonJsonResultError for values JSON cannot hold. */
export function fromCel(value: unknown): unknown {
  switch (typeof value) {
    case 'bigint':
      return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value.toString()
    case 'number':
      if (!Number.isFinite(value)) throw new NonJsonResultError(`the result ${value} is not a finite number`)
      return value
    case 'string':
    case 'boolean':
      return value
    case 'object':
      return value === null ? null : objectFromCel(value)
    case 'undefined':
    case 'function':
    case 'symbol':
      throw new NonJsonResultError(`the result has no JSON form (${typeof value})`)
  }
}

function objectFromCel(value: object): unknown {
  if (Array.isArray(value)) return value.map(fromCel)
  if (value instanceof Set) return [...(value as Set<unknown>)].map(fromCel)
  if (value instanceof Map) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of value as Map<unknown, unknown>) setOwn(out, String(key), fromCel(item))
    return out
  }
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new NonJsonResultError('the result is an invalid timestamp')
    return value.toISOString()
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) setOwn(out, key, fromCel((value as Record<string, unknown>)[key]))
    return out
  }
  // cel-js value classes: uint (valueOf() is a bigint), duration (toString() is "90s"), type (has a name).
  const primitive: unknown = (value as { valueOf(): unknown }).valueOf()
  if (typeof primitive === 'bigint') return fromCel(primitive)
  const tag = Object.prototype.toString.call(value)
  const typeName = /^\[object Type<(.+)>\]$/.exec(tag)?.[1]
  if (typeName !== undefined) return typeName
  const text: unknown = (value as { toString(): unknown }).toString()
  if (typeof text !== 'string' || text.startsWith('[object ')) throw new NonJsonResultError(`the result has no JSON form (${tag})`)
  return text
}
