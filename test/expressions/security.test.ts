import { describe, expect, it } from 'vitest'
import { compileValue, evaluateValue, ExpressionEvaluationError, ExpressionSyntaxError, type Scope } from '../../src/expressions/index.js'

// JSON.parse makes `__proto__` an own, plain data key, which is how such keys arrive from an HTTP body.
const hostile = JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"name": "fake"}, "prototype": 1, "safe": 1}') as unknown

const scope: Scope = {
  input: hostile,
  state: {},
  tasks: () => ({ output: JSON.parse('{"__proto__": {"x": 1}}') as unknown, status: 'completed' }),
}
const run = (source: string, s: Scope = scope) => evaluateValue(compileValue(source), s)

describe('expressions cannot reach the process', () => {
  it('cannot read JavaScript internals of plain objects', () => {
    const plain: Scope = { input: { a: 1 } }
    for (const source of [
      '${input.constructor}',
      '${input["constructor"]}',
      '${input["__proto__"]}',
      '${input.toString}',
      '${input["hasOwnProperty"]}',
      '${input.a.constructor}',
    ]) {
      expect(() => run(source, plain), source).toThrow(ExpressionEvaluationError)
    }
  })

  it('treats keys named __proto__, constructor and prototype as plain data', () => {
    expect(run('${input["__proto__"].polluted}')).toBe('yes')
    expect(run('${input.constructor.name}')).toBe('fake')
    expect(run('${input.prototype}')).toBe(1)
    expect(run('${size(input)}')).toBe(4)
    expect(run('${tasks.t.output["__proto__"].x}')).toBe(1)
  })

  it('returns such keys as own data properties without touching any prototype', () => {
    const result = run('${input}') as Record<string, unknown>
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype)
    expect(Object.hasOwn(result, '__proto__')).toBe(true)
    expect(result.safe).toBe(1)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('keeps such keys as data when they are written in a value or a map literal', () => {
    const value = JSON.parse('{"__proto__": "${input.safe}", "constructor": "${input.safe}"}') as unknown
    const result = evaluateValue(compileValue(value), scope) as Record<string, unknown>
    expect(Object.hasOwn(result, '__proto__')).toBe(true)
    expect(result.constructor).toBe(1)
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('knows no globals', () => {
    for (const source of ['${process.env}', '${globalThis}', '${this}', '${require("fs")}', '${Function("return 1")}', '${constructor}']) {
      expect(() => compileValue(source), source).toThrow(ExpressionSyntaxError)
    }
  })

  it('has no functions that leave the sandbox', () => {
    expect(() => compileValue('${input.s.constructor("return process")}')).toThrow(/no matching overload/)
    expect(() => compileValue('${input.s.constructor("return process")()}')).toThrow(ExpressionSyntaxError)
    expect(() => compileValue('${eval("1")}')).toThrow(ExpressionSyntaxError)
  })
})
