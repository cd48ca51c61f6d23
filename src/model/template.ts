import * as v from 'valibot'
import { ValidationError } from '../errors.js'
import { appendPath, isPlainObject, setOwn } from '../json.js'
import type { InputField, WorkflowDefinition } from './definition.js'
import { resolveExecutionInput } from './input.js'
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
  version: v.optional(
    v.pipe(v.number('version must be a number'), v.integer('version must be a whole number'), v.minValue(1, 'version must be at least 1')),
  ),
})

/** Every `${params.<name>}` referenced anywhere in `value`, with the first path it appears at (`tasks[0].input.file`). */
export function paramReferences(value: unknown, path = ''): Map<string, string> {
  const found = new Map<string, string>()
  const walk = (item: unknown, at: string) => {
    if (typeof item === 'string') {
      for (const m of item.matchAll(new RegExp(PARAM.source, 'g'))) if (!found.has(m[1]!)) found.set(m[1]!, at)
    } else if (Array.isArray(item)) item.forEach((element, i) => walk(element, appendPath(at, i)))
    else if (isPlainObject(item)) for (const [key, element] of Object.entries(item)) walk(element, appendPath(at, key))
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
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) setOwn(out, key, substituteParams(item, params))
    return out
  }
  return value
}

/** 422 for each `${params.<name>}` the workflow uses that the template's parameters do not declare. */
export function checkDeclaredParams(definition: WorkflowDefinition, parameters: Record<string, unknown>): void {
  const undeclared = [...paramReferences(definition)].filter(([name]) => !Object.hasOwn(parameters, name))
  if (undeclared.length === 0) return
  throw new ValidationError(
    undeclared.map(([name, at]) => ({
      path: `parameters.${name}`,
      message: `the workflow uses \${params.${name}} (at ${at}) but the template does not declare it`,
    })),
  )
}

/**
 * The values to substitute: unknown names → 422 naming `parameter_values.<name>`; then each value is checked
 * against its declared type, required ones must be given, defaults fill the rest.
 */
export function resolveParameterValues(parameters: Record<string, InputField>, values: Record<string, unknown>): Record<string, unknown> {
  const unknown = Object.keys(values).filter((name) => !Object.hasOwn(parameters, name))
  if (unknown.length > 0) {
    throw new ValidationError(
      unknown.map((name) => ({ path: `parameter_values.${name}`, message: `the template has no parameter ${name}` })),
    )
  }
  return resolveExecutionInput(parameters, values, 'parameter_values')
}

const directRuns = new WeakMap<WorkflowDefinition, Map<string, string>>()

/**
 * A workflow that still holds `${params.<name>}` is a template's source: `params` exist only when a template is
 * instantiated, so running it directly would fail at run time. 422 naming where each placeholder is.
 */
export function assertRunnableDirectly(definition: WorkflowDefinition): void {
  let found = directRuns.get(definition)
  if (!found) directRuns.set(definition, (found = paramReferences(definition)))
  if (found.size === 0) return
  throw new ValidationError(
    [...found].map(([name, at]) => ({
      path: at,
      message: `${at} uses \${params.${name}}: params exist only in templates; instantiate a template of this workflow to run it`,
    })),
    'Workflow is a template source',
  )
}
