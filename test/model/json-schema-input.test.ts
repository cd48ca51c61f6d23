import { describe, expect, it } from 'vitest'
import { ValidationError, type FieldError } from '../../src/errors.js'
import { resolveWorkflowInput } from '../../src/model/input.js'
import { isJsonSchemaInput } from '../../src/model/json-schema-input.js'
import { parseWorkflowDefinition } from '../../src/model/validate.js'

const order = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['customer', 'items'],
  properties: {
    customer: { type: 'string', minLength: 1 },
    priority: { type: 'string', enum: ['low', 'high'], default: 'low' },
    address: { type: 'object', properties: { country: { type: 'string', default: 'NL' }, city: { type: 'string' } } },
    items: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['sku', 'qty'], properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 } } },
    },
  },
}

const errorsOf = (input: unknown): FieldError[] => {
  try {
    resolveWorkflowInput(order, input)
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError)
    return (error as ValidationError).errors
  }
  return []
}

describe('JSON Schema inputs', () => {
  it('is recognised by a top-level "type": "object" or "$schema"; the field form is not', () => {
    expect(isJsonSchemaInput(order)).toBe(true)
    expect(isJsonSchemaInput({ type: 'object' })).toBe(true)
    expect(isJsonSchemaInput({ n: { type: 'integer' } })).toBe(false)
  })

  it('a workflow stores it as given and the field form keeps working', () => {
    const withSchema = parseWorkflowDefinition({ name: 'w', input: order, tasks: [{ id: 'a', component: 'c', action: 'run' }] })
    expect(withSchema.input).toStrictEqual(order)
    const withFields = parseWorkflowDefinition({
      name: 'w',
      input: { n: { type: 'integer', required: true } },
      tasks: [{ id: 'a', component: 'c', action: 'run' }],
    })
    expect(withFields.input).toStrictEqual({ n: { type: 'integer', required: true } })
  })

  it('a schema that names an unknown type is refused at create, naming where', () => {
    const bad = { type: 'object', properties: { n: { type: 'int' } } }
    expect(() => parseWorkflowDefinition({ name: 'w', input: bad, tasks: [{ id: 'a', component: 'c', action: 'run' }] })).toThrow(
      ValidationError,
    )
    try {
      parseWorkflowDefinition({ name: 'w', input: bad, tasks: [{ id: 'a', component: 'c', action: 'run' }] })
    } catch (error) {
      expect((error as ValidationError).errors.map((e) => e.path)).toEqual(['input.properties.n.type'])
    }
  })

  it('applies defaults at every level the input has, and accepts a valid input', () => {
    expect(resolveWorkflowInput(order, { customer: 'ada', address: { city: 'Delft' }, items: [{ sku: 'x', qty: 2 }] })).toEqual({
      customer: 'ada',
      priority: 'low',
      address: { city: 'Delft', country: 'NL' },
      items: [{ sku: 'x', qty: 2 }],
    })
  })

  it('required, type, enum, minimum, nested objects and arrays: one error per failure, at its path', () => {
    expect(
      errorsOf({
        items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 1 }, { sku: 'c', qty: 0 }, { qty: 'two' }],
        priority: 'urgent',
        address: { city: 3 },
      }),
    ).toEqual([
      { path: 'input.customer', message: 'input.customer: is required' },
      { path: 'input.priority', message: expect.stringContaining('input.priority') },
      { path: 'input.address.city', message: expect.stringContaining('input.address.city') },
      { path: 'input.items[2].qty', message: expect.stringContaining('less than 1') },
      { path: 'input.items[3].sku', message: 'input.items[3].sku: is required' },
      { path: 'input.items[3].qty', message: expect.stringContaining('input.items[3].qty') },
    ])
    expect(errorsOf({ customer: 'ada', items: [] }).map((e) => e.path)).toEqual(['input.items'])
  })
})
