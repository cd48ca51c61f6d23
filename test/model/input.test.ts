import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../src/errors.js'
import type { InputField } from '../../src/model/definition.js'
import { resolveExecutionInput } from '../../src/model/input.js'

const spec: Record<string, InputField> = {
  count: { type: 'integer', required: true },
  ratio: { type: 'number', default: 0.5 },
  name: { type: 'string', default: 'anon' },
  flag: { type: 'boolean' },
  options: { type: 'object', default: { deep: { x: 1 } } },
  items: { type: 'array' },
  anything: {},
}

function fieldErrors(input: unknown, s: Record<string, InputField> = spec) {
  try {
    resolveExecutionInput(s, input)
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError)
    return (error as ValidationError).errors
  }
  throw new Error('expected a ValidationError')
}

describe('resolveExecutionInput', () => {
  it('applies defaults and keeps given values and unknown extra keys', () => {
    expect(resolveExecutionInput(spec, { count: 2, flag: false, extra: 'kept' })).toStrictEqual({
      count: 2,
      flag: false,
      extra: 'kept',
      ratio: 0.5,
      name: 'anon',
      options: { deep: { x: 1 } },
    })
  })

  it("copies object defaults so one execution cannot change another's", () => {
    const first = resolveExecutionInput(spec, { count: 1 })
    ;(first.options as { deep: { x: number } }).deep.x = 99
    expect(resolveExecutionInput(spec, { count: 1 }).options).toStrictEqual({ deep: { x: 1 } })
  })

  it('treats undefined as {}', () => {
    expect(resolveExecutionInput({ a: { default: 1 } }, undefined)).toStrictEqual({ a: 1 })
    expect(fieldErrors(undefined)).toEqual([{ path: 'input.count', message: 'input.count is required' }])
  })

  it('rejects an input that is not an object', () => {
    for (const input of [null, 3, 'x', [1]]) expect(fieldErrors(input)).toEqual([{ path: 'input', message: 'input must be an object' }])
  })

  it('reports a missing required field, naming its description', () => {
    const errors = fieldErrors({}, { city: { type: 'string', required: true, description: 'where to look' } })
    expect(errors).toEqual([{ path: 'input.city', message: 'input.city is required (where to look)' }])
  })

  it('checks each type', () => {
    const errors = fieldErrors({ count: 1.5, ratio: 'high', name: 7, flag: 'yes', options: [1], items: { a: 1 } })
    expect(errors.map((e) => e.path)).toEqual(['input.count', 'input.ratio', 'input.name', 'input.flag', 'input.options', 'input.items'])
    expect(errors[0]!.message).toBe('input.count must be an integer, got the number 1.5')
    expect(errors[1]!.message).toBe('input.ratio must be a number, got the string "high"')
    expect(errors[4]!.message).toBe('input.options must be an object, got an array')
    expect(errors[5]!.message).toBe('input.items must be an array, got an object')
  })

  it('accepts whole numbers as integers and numbers, and anything for a field without a type', () => {
    expect(resolveExecutionInput(spec, { count: 3, ratio: 2, anything: [null] })).toMatchObject({ count: 3, ratio: 2, anything: [null] })
  })

  it('holds null to the declared type', () => {
    expect(fieldErrors({ count: null })[0]!.message).toBe('input.count must be an integer, got null')
    expect(resolveExecutionInput({ any: {} }, { any: null })).toStrictEqual({ any: null })
  })

  it('keeps a __proto__ key as data', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "count": 1}') as unknown
    const resolved = resolveExecutionInput(spec, input)
    expect(Object.hasOwn(resolved, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(resolved)).toBe(Object.prototype)
  })
})

describe('the summary of a validation error', () => {
  it('names each failing field once', () => {
    const error = (() => {
      try {
        resolveExecutionInput(spec, { count: 'three' })
      } catch (e) {
        return e as ValidationError
      }
      throw new Error('accepted')
    })()
    expect(error.errors[0]!.path).toBe('input.count')
    expect(error.message.match(/input\.count/g)).toHaveLength(1)
    expect(new ValidationError([{ path: 'tasks[0].id', message: 'must not be empty' }]).message).toBe(
      'Validation failed: tasks[0].id: must not be empty',
    )
  })
})
