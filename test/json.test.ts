import { describe, expect, it } from 'vitest'
import { ValidationError } from '../src/errors.js'
import { appendPath, assertStorable, formatPath, getOwn, isPlainObject, joinPath, setOwn } from '../src/json.js'

const pathsOf = (value: unknown, root: string) => {
  try {
    assertStorable(value, root)
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError)
    return (error as ValidationError).errors
  }
  return []
}

describe('json helpers', () => {
  it('isPlainObject: objects only, not arrays or null', () => {
    expect([{}, { a: 1 }, Object.create(null)].map(isPlainObject)).toEqual([true, true, true])
    expect([[], null, 'x', 1, undefined].map(isPlainObject)).toEqual([false, false, false, false, false])
  })

  it('setOwn and getOwn treat __proto__ and constructor as data', () => {
    const target: Record<string, unknown> = {}
    setOwn(target, '__proto__', { polluted: true })
    setOwn(target, 'constructor', 1)
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype)
    expect(Object.keys(target)).toEqual(['__proto__', 'constructor'])
    expect(getOwn(target, '__proto__')).toEqual({ polluted: true })
    expect(getOwn({}, 'toString')).toBeUndefined()
  })

  it('paths: numbers in brackets, identifiers dotted, other keys quoted', () => {
    expect(formatPath(['tasks', 2, 'depends_on', 0])).toBe('tasks[2].depends_on[0]')
    expect(appendPath('output', 'a b')).toBe('output["a b"]')
    expect(joinPath('tasks[0]', 'input.data')).toBe('tasks[0].input.data')
    expect(joinPath('tasks[0]', '[1]')).toBe('tasks[0][1]')
  })

  it('assertStorable names the string or key that holds a NUL or a lone surrogate', () => {
    expect(pathsOf({ name: 'a\u0000b', tasks: [] }, '')).toEqual([{ path: 'name', message: expect.stringContaining('NUL') }])
    expect(pathsOf({ tasks: [{ input: { deep: ['ok', 'x\ud800'] } }] }, '')).toEqual([
      { path: 'tasks[0].input.deep[1]', message: expect.stringContaining('surrogate') },
    ])
    expect(pathsOf({ ['bad\u0000key']: 1 }, 'input')).toEqual([{ path: 'input["bad\\u0000key"]', message: expect.stringContaining('NUL') }])
    expect(pathsOf({ fine: 'text', n: 1 }, '')).toEqual([])
  })
})
