import * as v from 'valibot'
import { ValidationError } from '../errors.js'
import { setOwn } from '../json.js'
import { InputFieldSchema, objectRecord } from './workflow.schema.js'

/** The body of `POST /api/templates` (API.md "Templates"). */
export const TemplateBodySchema = v.object({
  name: v.pipe(v.string(), v.trim(), v.nonEmpty('name must not be empty'), v.maxLength(200)),
  workflow_definition_id: v.pipe(v.string(), v.uuid('workflow_definition_id must be a UUID')),
  parameters: v.optional(objectRecord(v.pipe(v.string(), v.nonEmpty()), InputFieldSchema, 'parameters must be an object'), {}),
  description: v.optional(v.string(), ''),
})
export type TemplateBody = v.InferOutput<typeof TemplateBodySchema>

/** The body of `POST /api/templates/{id}/instantiate`. */
export const InstantiateBodySchema = v.object({
  parameter_values: v.optional(objectRecord(v.string(), v.unknown(), 'parameter_values must be an object'), {}),
  name: v.optional(v.pipe(v.string(), v.trim(), v.nonEmpty('name must not be empty'), v.maxLength(200))),
})

/** Parses with valibot, turning issues into a ValidationError with dotted paths. */
export function parseWith<S extends v.GenericSchema>(schema: S, body: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, body)
  if (result.success) return result.output
  throw new ValidationError(
    result.issues.map((issue) => ({
      path: (issue.path ?? []).map((p) => String(p.key)).join('.') || '',
      message: issue.message,
    })),
  )
}

/** Every `${params.<name>}` referenced anywhere in `value`, with the first path it appears at. */
export function paramReferences(value: unknown, path = ''): Map<string, string> {
  const found = new Map<string, string>()
  const walk = (v: unknown, at: string) => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(new RegExp(PARAM.source, 'g'))) if (!found.has(m[1]!)) found.set(m[1]!, at)
    } else if (Array.isArray(v)) v.forEach((item, i) => walk(item, `${at}[${i}]`))
    else if (v !== null && typeof v === 'object') for (const [k, item] of Object.entries(v)) walk(item, at ? `${at}.${k}` : k)
  }
  walk(value, path)
  return found
}

const PARAM = /\$\{\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*\}/g
const ONLY_PARAM = /^\$\{\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*\}$/

/**
 * Substitutes `${params.<name>}` in a workflow definition: a string that is exactly one reference takes the value with
 * its JSON type; references inside longer strings are interpolated as text. Other expressions are left as they are.
 */
export function substituteParams(value: unknown, params: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    const only = ONLY_PARAM.exec(value)
    if (only && Object.hasOwn(params, only[1]!)) return structuredClone(params[only[1]!])
    return value.replace(PARAM, (whole, name: string) => {
      if (!Object.hasOwn(params, name)) return whole
      const v = params[name]
      return typeof v === 'string' ? v : JSON.stringify(v)
    })
  }
  if (Array.isArray(value)) return value.map((item) => substituteParams(item, params))
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) setOwn(out, key, substituteParams(item, params))
    return out
  }
  return value
}
