import * as v from 'valibot'
import { ValidationError } from '../errors.js'
import { formatPath, type PathSegment } from '../json.js'

/** A missing required key arrives as an `object` issue whose input is undefined (valibot: "Invalid key: …"). */
export const isMissingKey = (issue: v.BaseIssue<unknown>): boolean => issue.type === 'object' && issue.input === undefined

/**
 * Parses with valibot, turning issues into a ValidationError whose paths use the format of workflow validation
 * (`tasks[2].depends_on[0]`, `parameters.who`).
 */
export function parseWith<S extends v.GenericSchema>(schema: S, body: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, body)
  if (result.success) return result.output
  throw new ValidationError(
    result.issues.map((issue) => {
      const path = formatPath((issue.path ?? []).map((p): PathSegment => (typeof p.key === 'number' ? p.key : String(p.key))))
      return { path, message: isMissingKey(issue) && path !== '' ? `${path} is required` : issue.message }
    }),
  )
}
