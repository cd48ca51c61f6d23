import { describe, expect, it } from 'vitest'
import {
  compileCondition,
  compileValue,
  evaluateValue,
  ExpressionSyntaxError,
  isConstant,
  referencedTasks,
  taskReferences,
} from '../../src/expressions/index.js'

/** The ExpressionSyntaxError that compiling `value` throws. */
function syntaxError(compile: () => unknown): ExpressionSyntaxError {
  try {
    compile()
  } catch (error) {
    expect(error).toBeInstanceOf(ExpressionSyntaxError)
    return error as ExpressionSyntaxError
  }
  throw new Error('expected an ExpressionSyntaxError')
}

describe('compileValue', () => {
  it('treats values without ${ as constants', () => {
    expect(isConstant(compileValue({ a: 'plain', b: [1, { c: null }], d: true }))).toBe(true)
    expect(isConstant(compileValue('just text'))).toBe(true)
    expect(isConstant(compileValue(42))).toBe(true)
    expect(isConstant(compileValue('echo $${HOME}'))).toBe(true)
    expect(isConstant(compileValue({ a: ['x', '${input.n}'] }))).toBe(false)
  })

  it('rejects a syntax error with the relative path of the string that holds it', () => {
    const error = syntaxError(() => compileValue({ data: { items: ['ok', 'fine', '${input.n +}'] } }))
    expect(error.path).toBe('data.items[2]')
    expect(error.expression).toBe('input.n +')
    expect(error.message).toContain('${input.n +}')
  })

  it('uses "" as the path of a top-level string and brackets for unusual keys', () => {
    expect(syntaxError(() => compileValue('${)}')).path).toBe('')
    expect(syntaxError(() => compileValue({ 'a b': '${)}' })).path).toBe('["a b"]')
  })

  it('rejects an unterminated ${ and an empty ${}', () => {
    expect(syntaxError(() => compileValue({ x: 'text ${input.n' })).message).toMatch(/unterminated/)
    expect(syntaxError(() => compileValue({ x: '${ }' })).message).toMatch(/empty/)
  })

  it('rejects unknown roots at compile time, listing the allowed ones', () => {
    const error = syntaxError(() => compileValue({ cmd: '${env.HOME}' }))
    expect(error.path).toBe('cmd')
    expect(error.message).toMatch(/unknown name "env".*input, tasks, state, execution, workflow, params, item, index/)
    expect(() => compileValue('${process}')).toThrow(ExpressionSyntaxError)
    expect(() => compileValue('${globalThis}')).toThrow(ExpressionSyntaxError)
  })

  it('hints at tasks["id"] for a task id with "-"', () => {
    expect(syntaxError(() => compileValue('${tasks.fetch-data.output}')).message).toMatch(/tasks\["my-id"\]/)
  })

  it('rejects what the type checker can prove wrong', () => {
    expect(syntaxError(() => compileValue('${1 + "a"}')).message).toMatch(/no such overload/)
  })

  it('requires a literal task id after tasks, and one of output/status/error after it', () => {
    expect(syntaxError(() => compileValue('${tasks}')).message).toMatch(/literal task id/)
    expect(syntaxError(() => compileValue('${tasks[input.which].output}')).message).toMatch(/literal task id/)
    expect(syntaxError(() => compileValue('${tasks.a.result}')).message).toMatch(/no field "result"/)
  })

  it('rejects a macro variable that hides a root', () => {
    expect(syntaxError(() => compileValue('${input.items.map(input, input.n)}')).message).toMatch(/hides the root/)
  })

  it('reports every bad string to onError and keeps going', () => {
    const errors: ExpressionSyntaxError[] = []
    const compiled = compileValue({ a: '${)}', b: ['${input.n}', '${nope.x}'] }, (error) => errors.push(error))
    expect(errors.map((e) => e.path)).toEqual(['a', 'b[1]'])
    expect(isConstant(compiled)).toBe(false)
  })

  it('finds the closing brace past map literals and string literals', () => {
    expect(evaluateValue(compileValue('${ {"a": {"b": 2}}.a.b }'), {})).toBe(2)
    expect(evaluateValue(compileValue('${"}" + input.s}!'), { input: { s: 'x' } })).toBe('}x!')
    expect(evaluateValue(compileValue("${'{' + r'\\d}'}"), {})).toBe('{\\d}')
    expect(evaluateValue(compileValue('${"a\\"}"}'), {})).toBe('a"}')
    expect(evaluateValue(compileValue('${"""a " } b"""}'), {})).toBe('a " } b')
  })
})

describe('referencedTasks', () => {
  it('lists each task read through tasks.<id> or tasks["<id>"], once, in order of first use', () => {
    const compiled = compileValue({
      a: '${tasks.first.output.x}',
      b: 'x ${tasks["second-one"].status} ${tasks.first.error}',
      c: ['${has(tasks.third.output) ? 1 : 2}'],
    })
    expect(referencedTasks(compiled)).toEqual(['first', 'second-one', 'third'])
  })

  it('is empty for constants and for expressions without tasks', () => {
    expect(referencedTasks(compileValue({ a: 1 }))).toEqual([])
    expect(referencedTasks(compileValue('${input.x}'))).toEqual([])
  })

  it('covers conditions', () => {
    expect(referencedTasks(compileCondition('tasks.a.status == "completed" && tasks.b.output.ok'))).toEqual(['a', 'b'])
  })

  it('ignores macro variables that only look like task paths', () => {
    expect(referencedTasks(compileValue('${input.list.map(t, t.output)}'))).toEqual([])
  })

  it('tells where each reference is (taskReferences)', () => {
    const refs = taskReferences(compileValue({ x: { y: ['${tasks.a.output}', 'n=${tasks.b.output}'] } }))
    expect(refs).toEqual([
      { path: 'x.y[0]', expression: 'tasks.a.output', task: 'a' },
      { path: 'x.y[1]', expression: 'tasks.b.output', task: 'b' },
    ])
  })
})

describe('compileCondition', () => {
  it('accepts ${expr} and bare CEL', () => {
    expect(isConstant(compileCondition('${input.n > 1}'))).toBe(false)
    expect(isConstant(compileCondition('input.n > 1'))).toBe(false)
  })

  it('rejects text around ${...}', () => {
    expect(syntaxError(() => compileCondition('${input.a} && ${input.b}')).message).toMatch(
      /one \$\{\.\.\.\} expression or a bare CEL expression/,
    )
  })

  it('rejects a condition that is provably not boolean', () => {
    expect(syntaxError(() => compileCondition('1 + 2')).message).toMatch(/must be a boolean expression, but it is of type int/)
    expect(syntaxError(() => compileCondition('${"yes"}')).message).toMatch(/type string/)
  })

  it('rejects syntax errors and unknown roots', () => {
    expect(() => compileCondition('input.n >')).toThrow(ExpressionSyntaxError)
    expect(() => compileCondition('os.exit == 1')).toThrow(/unknown name "os"/)
  })
})
