import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_EXPRESSION_BUDGET, setExpressionBudget } from '../../src/expressions/budget.js'
import { compileValue, evaluateValue, ExpressionEvaluationError, ExpressionSyntaxError } from '../../src/expressions/index.js'
import { patternProblem, re2Matches } from '../../src/expressions/regex.js'

const scope = (input: Record<string, unknown>) => ({ input, state: {}, execution: {}, workflow: {}, tasks: () => undefined })
const run = (source: string, input: Record<string, unknown> = {}) => evaluateValue(compileValue(source), scope(input))
const failure = (source: string, input: Record<string, unknown>) => {
  try {
    run(source, input)
  } catch (error) {
    return error as ExpressionEvaluationError
  }
  throw new Error(`expected ${source} to fail`)
}

afterEach(() => setExpressionBudget(DEFAULT_EXPRESSION_BUDGET))

describe('matches on RE2', () => {
  it('cannot backtrack: (a+)+$ against 60 a and a ! answers at once (JavaScript RegExp would need ~2^60 steps)', () => {
    expect(run('${input.s.matches("^(a+)+$")}', { s: `${'a'.repeat(60)}!` })).toBe(false)
    expect(run('${input.s.matches("^(a+)+$")}', { s: 'a'.repeat(60) })).toBe(true)
  })

  it('keeps CEL semantics: a match anywhere in the text, RE2 syntax', () => {
    expect(run('${"abc".matches("b")}')).toBe(true)
    expect(run('${"abc".matches("^b")}')).toBe(false)
    expect(run('${input.email.matches("^[^@]+@[a-z.]+$")}', { email: 'ada@tekton.local' })).toBe(true)
    expect(re2Matches('Hello World', 'o W')).toBe(true)
  })

  it('a literal pattern RE2 refuses (a backreference, a lookahead) is refused at compile time, naming the pattern', () => {
    for (const pattern of ['(a)\\\\1', '(?=a)b']) {
      expect(() => compileValue(`\${input.s.matches("${pattern}")}`)).toThrow(ExpressionSyntaxError)
      expect(() => compileValue(`\${input.s.matches("${pattern}")}`)).toThrow(/not valid RE2/)
    }
    expect(patternProblem('(a)\\1')).toMatch(/invalid escape/)
    expect(patternProblem('a+b')).toBeNull()
  })

  it('a pattern computed at run time that RE2 refuses fails the evaluation', () => {
    expect(failure('${input.s.matches(input.p)}', { s: 'aa', p: '(a)\\1' }).message).toMatch(/not valid RE2/)
  })
})

describe('the evaluation budget', () => {
  it('the quadratic comprehension over 3,000 elements (9 million values) fails with expression_budget_exceeded', () => {
    const l = Array.from({ length: 3000 }, (_, i) => i)
    const error = failure('${size(input.l.map(x, input.l.map(y, x + y)))}', { l })
    expect(error).toBeInstanceOf(ExpressionEvaluationError)
    expect(error.code).toBe('expression_budget_exceeded')
    expect(error.message).toMatch(/exceeded the evaluation budget of 500000 steps \(HARMONIA_EXPRESSION_BUDGET\)/)
  })

  it('counts steps: a budget of 2,000 runs a 300-element map and refuses a 3,000-element one', () => {
    setExpressionBudget(2000)
    const source = '${size(input.l.map(x, x + 1))}'
    expect(run(source, { l: Array.from({ length: 300 }, (_, i) => i) })).toBe(300)
    expect(failure(source, { l: Array.from({ length: 3000 }, (_, i) => i) }).code).toBe('expression_budget_exceeded')
  })

  it('counts what concatenations build, not only steps', () => {
    setExpressionBudget(100_000)
    const l = Array.from({ length: 20_000 }, () => 0)
    expect(run('${size(input.l + input.l)}', { l })).toBe(40_000)
    expect(failure('${size(input.l + input.l + input.l + input.l)}', { l }).code).toBe('expression_budget_exceeded')
  })

  it('a budget spent inside `||` (whose left side errors are absorbed) still fails', () => {
    setExpressionBudget(2000)
    const l = Array.from({ length: 3000 }, (_, i) => i)
    expect(failure('${size(input.l.map(x, x)) > 0 || true}', { l }).code).toBe('expression_budget_exceeded')
  })

  it('refuses a budget that is not a positive integer', () => {
    expect(() => setExpressionBudget(0)).toThrow(TypeError)
    expect(() => setExpressionBudget(1.5)).toThrow(TypeError)
  })
})
