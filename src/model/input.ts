import { ValidationError, type FieldError } from '../errors.js'
import { appendPath, isPlainObject, setOwn } from '../json.js'
import type { InputField, InputSpec, InputType } from './definition.js'
import { isJsonSchemaInput, resolveJsonSchemaInput } from './json-schema-input.js'

/** True when `value` has the declared input type (`integer`: a whole number; `object`: a plain object, not an array). */
export function matchesInputType(value: unknown, type: InputType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string'
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value)
    case 'boolean':
      return typeof value === 'boolean'
    case 'object':
      return isPlainObject(value)
    case 'array':
      return Array.isArray(value)
  }
}

/** The phrase for a type in messages: "must be an integer". */
export function describeInputType(type: InputType): string {
  return type === 'integer' || type === 'object' || type === 'array' ? `an ${type}` : `a ${type}`
}

/**
 * Checks an execution's input against the workflow's `input` description and applies defaults
 * (API.md "Executions": 422 naming the field). `undefined` means `{}`. Keys the description does not list are kept.
 * A `null` value counts as given: it must match the declared type like any other value.
 */
export function resolveExecutionInput(spec: Record<string, InputField>, input: unknown, root = 'input'): Record<string, unknown> {
  if (input !== undefined && !isPlainObject(input)) {
    throw new ValidationError([{ path: root, message: `${root} must be an object` }], `Invalid ${root}`)
  }
  const resolved: Record<string, unknown> = {}
  if (input) for (const key of Object.keys(input)) setOwn(resolved, key, input[key])
  const errors: FieldError[] = []
  for (const [name, field] of Object.entries(spec)) {
    const path = appendPath(root, name)
    const value = Object.hasOwn(resolved, name) ? resolved[name] : undefined
    if (value === undefined) {
      if (field.default !== undefined) setOwn(resolved, name, structuredClone(field.default))
      else if (field.required) errors.push({ path, message: `${path} is required${field.description ? ` (${field.description})` : ''}` })
      continue
    }
    if (field.type !== undefined && !matchesInputType(value, field.type)) {
      errors.push({ path, message: `${path} must be ${describeInputType(field.type)}, got ${describeValue(value)}` })
    }
  }
  if (errors.length > 0) throw new ValidationError(errors, `Invalid ${root}`)
  return resolved
}

/** A workflow's execution input checked and completed by its spec: fields by name, or a JSON Schema. */
export function resolveWorkflowInput(spec: InputSpec, input: unknown, root = 'input'): Record<string, unknown> {
  return isJsonSchemaInput(spec) ? resolveJsonSchemaInput(spec, input, root) : resolveExecutionInput(spec, input, root)
}

/** "the string \"abc\"", "the number 1.5", "an array", … for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'undefined') return `a ${typeof value}`
  const text = typeof value === 'bigint' ? value.toString() : JSON.stringify(value)
  return `the ${typeof value} ${text.length > 40 ? `${text.slice(0, 37)}...` : text}`
}
