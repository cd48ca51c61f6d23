import { describe, expect, it, vi } from 'vitest'
import {
  compileCondition,
  compileValue,
  evaluateCondition,
  evaluateValue,
  ExpressionEvaluationError,
  type Scope,
  type TaskView,
} from '../../src/expressions/index.js'

const views: Record<string, TaskView> = {
  a: {
    output: { count: 3, score: 0.75, whole: 2, items: [1, 2, 3], name: 'alpha', nested: { deep: { x: true } } },
    status: 'completed',
    error: null,
  },
  b: { output: null, status: 'failed', error: { message: 'boom', code: 'E_BOOM', retryable: false } },
  'fetch-data': { output: { rows: 5 }, status: 'completed' },
}

const scope: Scope = {
  input: { n: 3, d: 1.5, s: 'text', flag: true, nothing: null, obj: { a: 1, b: [true, 'x'] }, list: [1, 2.5, 'three'] },
  state: { user: 'ada', counter: 41 },
  execution: { id: 'exec-1', execution_id: 'exec-1' },
  workflow: { id: 'wf-1', name: 'demo', version: 2 },
  params: { region: 'eu' },
  tasks: (id) => views[id],
}

const run = (value: unknown, s: Scope = scope) => evaluateValue(compileValue(value), s)
const runCondition = (source: string, s: Scope = scope) => evaluateCondition(compileCondition(source), s)

describe('evaluateValue: a string that is exactly one ${expr} keeps the JSON type', () => {
  it.each([
    ['${input.n}', 3],
    ['${input.d}', 1.5],
    ['${input.s}', 'text'],
    ['${input.flag}', true],
    ['${input.nothing}', null],
    ['${input.obj}', { a: 1, b: [true, 'x'] }],
    ['${input.list}', [1, 2.5, 'three']],
    ['${tasks.a.output.items}', [1, 2, 3]],
  ])('%s → %j', (source, expected) => {
    const result = run(source)
    expect(result).toStrictEqual(expected)
  })

  it('returns a JSON number, not a string or a bigint, for an integer', () => {
    const result = run('${input.n}')
    expect(typeof result).toBe('number')
    expect(result).toBe(3)
  })

  it('evaluates nested values in objects and arrays, leaving constants in place', () => {
    const result = run({ count: '${input.n}', label: 'plain', list: ['${input.flag}', 7, { deep: '${state.user}' }], none: null })
    expect(result).toStrictEqual({ count: 3, label: 'plain', list: [true, 7, { deep: 'ada' }], none: null })
  })

  it('builds map and list literals as JSON', () => {
    expect(run('${ {"total": input.n + 1, "tags": ["a", input.s]} }')).toStrictEqual({ total: 4, tags: ['a', 'text'] })
  })
})

describe('evaluateValue: interpolation inside longer strings', () => {
  it('inserts strings as they are and other values as JSON text', () => {
    expect(run('n=${input.n}, s=${input.s}, f=${input.flag}, z=${input.nothing}, o=${input.obj}')).toBe(
      'n=3, s=text, f=true, z=null, o={"a":1,"b":[true,"x"]}',
    )
  })

  it('handles several expressions, leading and trailing text', () => {
    expect(run('[${state.user}|${params.region}]')).toBe('[ada|eu]')
  })

  it('keeps a whitespace-padded single expression a string', () => {
    expect(run(' ${input.n} ')).toBe(' 3 ')
  })

  it('turns $${ into a literal ${ (for shell commands)', () => {
    expect(run('echo $${HOME} ${input.s}')).toBe('echo ${HOME} text')
  })
})

describe('numbers: JSON numbers behave as a user expects in CEL', () => {
  it('treats whole numbers as ints: count * 2 is the JSON number 6', () => {
    expect(run('${tasks.a.output.count * 2}')).toBe(6)
    expect(run('${input.n + input.n}')).toBe(6)
    expect(run('${input.n - 5}')).toBe(-2)
    expect(run('${input.n % 2}')).toBe(1)
  })

  it('divides ints with integer division, as CEL does; a double operand gives a double', () => {
    expect(run('${input.n / 2}')).toBe(1)
    expect(run('${input.n / 2.0}')).toBe(1.5)
  })

  it('compares ints and doubles in any combination', () => {
    expect(runCondition('input.n == 3')).toBe(true)
    expect(runCondition('input.n == 3.0')).toBe(true)
    expect(runCondition('input.n != 4')).toBe(true)
    expect(runCondition('tasks.a.output.score > 0.5')).toBe(true)
    expect(runCondition('tasks.a.output.whole > 0.5')).toBe(true)
    expect(runCondition('input.d < 2')).toBe(true)
    expect(runCondition('input.d == 1')).toBe(false)
    expect(runCondition('3 == 3.0')).toBe(true)
  })

  it('mixes ints and doubles in arithmetic', () => {
    expect(run('${input.n * 1.5}')).toBe(4.5)
    expect(run('${input.d * 2}')).toBe(3)
    expect(run('${input.n + input.d}')).toBe(4.5)
    expect(run('${input.d - input.n}')).toBe(-1.5)
    expect(run('${2 * 1.5}')).toBe(3)
  })

  it('returns an int outside the safe integer range as an exact decimal string', () => {
    expect(run('${9223372036854775807}')).toBe('9223372036854775807')
    expect(run('${9007199254740991}')).toBe(9007199254740991)
  })

  it('raises an evaluation error for a result JSON cannot hold', () => {
    expect(() => run('${1.0 / 0.0}')).toThrow(ExpressionEvaluationError)
    expect(() => run('${1.0 / 0.0}')).toThrow(/not a finite number/)
  })

  it('raises an evaluation error for integer overflow and division by zero', () => {
    expect(() => run('${9223372036854775807 + input.n}')).toThrow(ExpressionEvaluationError)
    expect(() => run('${input.n / 0}')).toThrow(/division by zero/)
  })
})

describe('roots', () => {
  it('reads input, state, execution, workflow and params', () => {
    expect(
      run(['${input.s}', '${state.counter + 1}', '${execution.id}', '${workflow.name}', '${workflow.version}', '${params.region}']),
    ).toStrictEqual(['text', 42, 'exec-1', 'demo', 2, 'eu'])
  })

  it('reads tasks.<id>.output, .status and .error through the lookup', () => {
    expect(run('${tasks.a.output.name}')).toBe('alpha')
    expect(run('${tasks.a.status}')).toBe('completed')
    expect(run('${tasks.b.error.message}')).toBe('boom')
    expect(run('${tasks.b.error}')).toStrictEqual({ message: 'boom', code: 'E_BOOM', retryable: false })
    expect(run('${tasks.a.output.nested.deep.x}')).toBe(true)
  })

  it('reads a task whose id contains "-" with tasks["id"]', () => {
    expect(run('${tasks["fetch-data"].output.rows}')).toBe(5)
  })

  it('looks up only the tasks an expression names, once per evaluation', () => {
    const lookup = vi.fn((id: string) => views[id])
    const compiled = compileValue({ x: '${tasks.a.output.count}', y: '${tasks.a.status} ${tasks.b.status}' })
    expect(evaluateValue(compiled, { tasks: lookup })).toStrictEqual({ x: 3, y: 'completed failed' })
    expect(lookup.mock.calls.map(([id]) => id).sort()).toEqual(['a', 'b'])
  })

  it('does not touch parts of the data the expression does not read', () => {
    const input = {
      wanted: { n: 1 },
      get unread(): never {
        throw new Error('unreferenced data was converted')
      },
    }
    expect(run('${input.wanted.n + 1}', { input })).toBe(2)
    expect(run('${has(input.wanted.n)}', { input })).toBe(true)
    expect(run('${has(input.wanted.m)}', { input })).toBe(false)
  })

  it('reads a root that is absent from the scope as an empty object', () => {
    expect(runCondition('has(state.user)', {})).toBe(false)
    expect(() => run('${state.user}', {})).toThrow(/state\.user is not present/)
  })

  it('supports macros over lists of objects', () => {
    const s: Scope = {
      input: {
        users: [
          { name: 'a', age: 30 },
          { name: 'b', age: 12 },
        ],
      },
    }
    expect(run('${input.users.filter(u, u.age >= 18).map(u, u.name)}', s)).toStrictEqual(['a'])
    expect(run('${input.users.map(u, u.age * 2)}', s)).toStrictEqual([60, 24])
    expect(run('${input.users[1].name}', s)).toBe('b')
    expect(run('${size(input.users)}', s)).toBe(2)
  })
})

describe('missing data raises ExpressionEvaluationError naming the expression', () => {
  it('names the missing field', () => {
    let caught: unknown
    try {
      run('${input.absent.deeper}')
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ExpressionEvaluationError)
    const error = caught as ExpressionEvaluationError
    expect(error.expression).toBe('input.absent.deeper')
    expect(error.message).toContain('${input.absent.deeper}')
    expect(error.message).toContain('input.absent is not present')
    expect(error.retryable).toBe(false)
  })

  it('says when a task has no result', () => {
    expect(() => run('${tasks.ghost.output}')).toThrow(/task "ghost" has no result yet/)
  })

  it('reports type errors found at run time', () => {
    expect(() => run('${input.s + 1}')).toThrow(ExpressionEvaluationError)
    expect(() => run('${input.s + 1}')).toThrow(/input\.s \+ 1/)
  })

  it('names the failing expression in interpolated strings', () => {
    expect(() => run('ok ${input.s} then ${input.nope}')).toThrow(/\$\{input\.nope\}/)
  })
})

describe('conditions', () => {
  it('accepts a ${...} condition and a bare CEL condition', () => {
    expect(runCondition('${input.n > 2}')).toBe(true)
    expect(runCondition('input.n > 5')).toBe(false)
    expect(runCondition('  tasks.b.status == "failed" && state.user == "ada"  ')).toBe(true)
    expect(runCondition('true')).toBe(true)
  })

  it('rejects a result that is not a boolean', () => {
    expect(() => runCondition('${input.n}')).toThrow(ExpressionEvaluationError)
    expect(() => runCondition('${input.n}')).toThrow(/must evaluate to a boolean, but it gave a number 3/)
    expect(() => runCondition('input.s')).toThrow(/gave a string "text"/)
  })
})

describe('constants', () => {
  it('returns the same frozen value every time, at no cost', () => {
    const compiled = compileValue({ url: 'https://example.com', retries: [1, 2] })
    const first = evaluateValue(compiled, scope)
    expect(first).toStrictEqual({ url: 'https://example.com', retries: [1, 2] })
    expect(evaluateValue(compiled, {})).toBe(first)
    expect(Object.isFrozen(first)).toBe(true)
    expect(Object.isFrozen((first as { retries: unknown[] }).retries)).toBe(true)
  })

  it("does not freeze or share the caller's value", () => {
    const value = { a: { b: 1 } }
    const result = evaluateValue(compileValue(value), {})
    expect(Object.isFrozen(value)).toBe(false)
    expect(result).not.toBe(value)
    expect(result).toStrictEqual(value)
  })

  it('builds a fresh result for values with expressions', () => {
    const compiled = compileValue({ n: '${input.n}', fixed: 'x' })
    const first = evaluateValue(compiled, scope) as Record<string, unknown>
    const second = evaluateValue(compiled, scope)
    expect(first).not.toBe(second)
    first.n = 99
    expect(evaluateValue(compiled, scope)).toStrictEqual({ n: 3, fixed: 'x' })
  })
})
