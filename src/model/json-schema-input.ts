import { Validator } from '@cfworker/json-schema'
import { ValidationError, type FieldError } from '../errors.js'
import { appendPath, isPlainObject, setOwn } from '../json.js'

/**
 * A workflow `input` written as a JSON Schema (API.md "JSON Schema inputs": draft 2020-12, recognised by a top-level
 * `"type": "object"` or `"$schema"`). Validated with @cfworker/json-schema, which interprets the schema (no code is
 * generated at run time); defaults in `properties` are applied first, at every level the input has.
 */
export type JsonSchemaInput = Record<string, unknown>

export function isJsonSchemaInput(input: unknown): input is JsonSchemaInput {
  return isPlainObject(input) && (input.type === 'object' || typeof input.$schema === 'string')
}

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'])

/** Mistakes in a schema that would make every input pass or fail for the wrong reason, each at its path. */
export function schemaProblems(schema: unknown, path = 'input'): FieldError[] {
  const problems: FieldError[] = []
  const visit = (node: unknown, at: string) => {
    if (!isPlainObject(node)) return
    const types = Array.isArray(node.type) ? node.type : node.type === undefined ? [] : [node.type]
    if (!types.every((t) => typeof t === 'string' && TYPES.has(t)))
      problems.push({ path: appendPath(at, 'type'), message: `${appendPath(at, 'type')} must name JSON types (${[...TYPES].join(', ')})` })
    if (node.required !== undefined && !(Array.isArray(node.required) && node.required.every((r) => typeof r === 'string'))) {
      problems.push({ path: appendPath(at, 'required'), message: `${appendPath(at, 'required')} must be a list of property names` })
    }
    if (node.properties !== undefined) {
      if (!isPlainObject(node.properties))
        problems.push({ path: appendPath(at, 'properties'), message: `${appendPath(at, 'properties')} must be an object` })
      else for (const [key, sub] of Object.entries(node.properties)) visit(sub, appendPath(appendPath(at, 'properties'), key))
    }
    if (node.items !== undefined) visit(node.items, appendPath(at, 'items'))
  }
  visit(schema, path)
  return problems
}

/** `value` with the defaults of `schema`'s properties filled in where the value leaves them out (a copy). */
function withDefaults(schema: unknown, value: unknown): unknown {
  if (!isPlainObject(schema)) return value
  if (isPlainObject(value) && isPlainObject(schema.properties)) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) setOwn(out, key, value[key])
    for (const [key, sub] of Object.entries(schema.properties)) {
      if (!Object.hasOwn(out, key) && isPlainObject(sub) && sub.default !== undefined) setOwn(out, key, structuredClone(sub.default))
      else if (Object.hasOwn(out, key)) setOwn(out, key, withDefaults(sub, out[key]))
    }
    return out
  }
  if (Array.isArray(value) && isPlainObject(schema.items)) return value.map((item) => withDefaults(schema.items, item))
  return value
}

/** Errors a keyword reports about its sub-schemas: their own errors name the place, these only repeat it. */
const SUMMARIES = new Set([
  'properties',
  'items',
  'prefixItems',
  'additionalProperties',
  'patternProperties',
  'allOf',
  '$ref',
  'dependentSchemas',
  'unevaluatedProperties',
  'unevaluatedItems',
])

/** `#/items/2/qty` as `input.items[2].qty` (array indices where the value is an array). */
function pathOf(pointer: string, value: unknown, root: string): string {
  let path = root
  let at: unknown = value
  for (const raw of pointer
    .replace(/^#\/?/, '')
    .split('/')
    .filter((s) => s !== '')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    const index = Array.isArray(at) && /^\d+$/.test(segment) ? Number(segment) : undefined
    path = appendPath(path, index ?? segment)
    at = index !== undefined ? (at as unknown[])[index] : isPlainObject(at) ? at[segment] : undefined
  }
  return path
}

const validators = new WeakMap<object, Validator>()

/** The input checked against the schema, defaults applied; 422 with one error per failure, at its path. */
export function resolveJsonSchemaInput(schema: JsonSchemaInput, input: unknown, root = 'input'): Record<string, unknown> {
  const value = withDefaults(schema, input ?? {})
  let validator = validators.get(schema)
  if (!validator) validators.set(schema, (validator = new Validator(schema, '2020-12', false)))
  const errors: FieldError[] = []
  for (const error of validator.validate(value).errors) {
    if (SUMMARIES.has(error.keyword)) continue
    let path = pathOf(error.instanceLocation, value, root)
    const missing = error.keyword === 'required' ? /required property "([^"]+)"/.exec(error.error)?.[1] : undefined
    if (missing !== undefined) path = appendPath(path, missing)
    errors.push({ path, message: `${path}: ${missing !== undefined ? 'is required' : error.error}` })
  }
  if (errors.length > 0) throw new ValidationError(errors, `Invalid ${root}`)
  if (!isPlainObject(value)) throw new ValidationError([{ path: root, message: `${root} must be an object` }], `Invalid ${root}`)
  return value
}
