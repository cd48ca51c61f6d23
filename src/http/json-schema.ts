import { toJsonSchema } from '@valibot/to-json-schema'
import type { CustomSchema, GenericSchema } from 'valibot'
import { isPlainObject } from '../json.js'

/**
 * JSON Schema of a valibot schema, for the OpenAPI document and the MCP tools, transforms documented by their output.
 * A `v.custom` check is opaque to the converter; the one that admits plain objects only (isPlainObject) is documented
 * as such.
 */
export function jsonSchemaOf(schema: GenericSchema): Record<string, unknown> {
  const converted = toJsonSchema(schema, {
    errorMode: 'ignore',
    overrideSchema: ({ valibotSchema }) =>
      valibotSchema.type === 'custom' && (valibotSchema as CustomSchema<unknown, undefined>).check === isPlainObject
        ? { type: 'object' }
        : undefined,
  }) as Record<string, unknown>
  const { $schema: _, ...rest } = converted
  return rest
}
