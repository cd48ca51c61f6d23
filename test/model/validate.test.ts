import { describe, expect, it } from 'vitest'
import { ValidationError, type FieldError } from '../../src/errors.js'
import { DEFAULT_MAX_CONCURRENCY } from '../../src/model/definition.js'
import type { ComponentCatalog } from '../../src/model/component-check.js'
import { parseWorkflowDefinition } from '../../src/model/validate.js'

type Task = Record<string, unknown>
const task = (id: string, extra: Task = {}): Task => ({ id, component: 'c', action: 'run', ...extra })
const workflow = (tasks: unknown, extra: Record<string, unknown> = {}) => ({ name: 'wf', tasks, ...extra })

/** The field errors of a definition that must fail. */
function errorsOf(body: unknown, options?: Parameters<typeof parseWorkflowDefinition>[1]): FieldError[] {
  try {
    parseWorkflowDefinition(body, options)
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError)
    return (error as ValidationError).errors
  }
  throw new Error('expected a ValidationError')
}

/** The one error at `path`; its message must name everything in `mentions`. */
function errorAt(errors: FieldError[], path: string, ...mentions: string[]): FieldError {
  const found = errors.filter((e) => e.path === path)
  expect(found, `errors at ${path} in ${JSON.stringify(errors, null, 2)}`).toHaveLength(1)
  for (const mention of mentions) expect(found[0]!.message).toContain(mention)
  return found[0]!
}

describe('parseWorkflowDefinition: normalisation', () => {
  it('applies defaults and returns tasks as a list', () => {
    const definition = parseWorkflowDefinition(workflow([task('a'), task('b', { depends_on: ['a'], input: { x: '${tasks.a.output}' } })]))
    expect(definition).toStrictEqual({
      name: 'wf',
      description: '',
      metadata: {},
      input: {},
      output: {},
      tasks: [
        { id: 'a', component: 'c', action: 'run', input: {}, depends_on: [], metadata: {} },
        { id: 'b', component: 'c', action: 'run', input: { x: '${tasks.a.output}' }, depends_on: ['a'], metadata: {} },
      ],
      max_concurrency: DEFAULT_MAX_CONCURRENCY,
      fail_fast: false,
    })
  })

  it('keeps every optional field that was given', () => {
    const retry = {
      max_attempts: 3,
      initial_interval: 0.5,
      backoff_coefficient: 2,
      max_interval: 10,
      jitter: 0.2,
      non_retryable_errors: ['E_BAD'],
    }
    const definition = parseWorkflowDefinition({
      name: 'full',
      description: 'd',
      version: '1.2',
      metadata: { team: 'x' },
      input: { n: { type: 'integer', required: true, description: 'how many' }, s: { type: 'string', default: 'hi' } },
      output: { total: '${tasks.a.output}' },
      tasks: [task('a', { name: 'A', timeout: 1.5, retry, when: 'input.n > 0', metadata: { k: 1 } }), task('b', { retry: 2 })],
      max_concurrency: 3,
      timeout: 60,
      fail_fast: true,
    })
    expect(definition.tasks[0]).toStrictEqual({
      id: 'a',
      name: 'A',
      component: 'c',
      action: 'run',
      input: {},
      depends_on: [],
      timeout: 1.5,
      retry,
      when: 'input.n > 0',
      metadata: { k: 1 },
    })
    expect(definition.tasks[1]!.retry).toBe(2)
    expect(definition).toMatchObject({ description: 'd', metadata: { team: 'x' }, max_concurrency: 3, timeout: 60, fail_fast: true })
    expect(definition.input).toStrictEqual({
      n: { type: 'integer', required: true, description: 'how many' },
      s: { type: 'string', default: 'hi' },
    })
    expect(definition).not.toHaveProperty('version')
  })

  it('accepts tasks as a map keyed by id, in definition order', () => {
    const definition = parseWorkflowDefinition(
      workflow({
        fetch: { component: 'c', action: 'get' },
        parse: { id: 'parse', component: 'c', action: 'parse', depends_on: ['fetch'] },
      }),
    )
    expect(definition.tasks.map((t) => t.id)).toEqual(['fetch', 'parse'])
    expect(definition.tasks[1]!.depends_on).toEqual(['fetch'])
  })

  it('drops repeated dependencies and unknown fields', () => {
    const definition = parseWorkflowDefinition({
      ...workflow([task('a'), task('b', { depends_on: ['a', 'a'], extra: 1 })]),
      workflow_id: 'x',
    })
    expect(definition.tasks[1]!.depends_on).toEqual(['a'])
    expect(definition.tasks[1]).not.toHaveProperty('extra')
    expect(definition).not.toHaveProperty('workflow_id')
  })

  it('accepts an expression reading a task upstream through several hops, in input and when', () => {
    const definition = parseWorkflowDefinition(
      workflow([
        task('a'),
        task('b', { depends_on: ['a'] }),
        task('c', { depends_on: ['b'], input: { v: '${tasks.a.output.x}' }, when: '${tasks.a.status == "completed"}' }),
      ]),
    )
    expect(definition.tasks).toHaveLength(3)
  })

  it('lets the output mapping read any task', () => {
    expect(() =>
      parseWorkflowDefinition(workflow([task('a'), task('b')], { output: { a: '${tasks.a.output}', both: '${tasks.b.status}' } })),
    ).not.toThrow()
  })
})

describe('parseWorkflowDefinition: each error names the task, the field and the path', () => {
  it('rejects a body that is not an object', () => {
    expect(errorsOf('nope')[0]!.message).toMatch(/must be a JSON object/)
    expect(errorsOf([])[0]!.message).toMatch(/must be a JSON object/)
  })

  it('schema: missing and wrongly typed fields, converted to paths', () => {
    const errors = errorsOf({
      tasks: [task('a', { component: 5 }), { id: 'b', action: 'x' }, 'not a task'],
      max_concurrency: 0,
      fail_fast: 'yes',
    })
    errorAt(errors, 'name', 'name', 'required')
    errorAt(errors, 'tasks[0].component', 'task "a"', 'component', 'must be a string')
    errorAt(errors, 'tasks[1].component', 'task "b"', 'component', 'is required')
    errorAt(errors, 'tasks[2]', 'tasks[2]', 'must be an object')
    errorAt(errors, 'max_concurrency', 'max_concurrency', 'at least 1')
    errorAt(errors, 'fail_fast', 'fail_fast', 'true or false')
  })

  it('schema: a missing id and an empty component or action', () => {
    const errors = errorsOf(workflow([{ component: 'c', action: 'x' }, task('b', { component: '', action: '' })]))
    errorAt(errors, 'tasks[0].id', 'task at tasks[0]', 'id', 'is required')
    errorAt(errors, 'tasks[1].component', 'task "b"', 'component', 'must not be empty')
    errorAt(errors, 'tasks[1].action', 'task "b"', 'action', 'must not be empty')
  })

  it('schema: input description fields', () => {
    const errors = errorsOf(workflow([task('a')], { input: { count: { type: 'int' }, ok: 5, n: { type: 'integer', default: 1.5 } } }))
    errorAt(errors, 'input.count.type', 'input.count.type', 'must be one of string, number, integer')
    errorAt(errors, 'input.ok', 'input.ok', 'must be an object')
    errorAt(errors, 'input.n.default', 'input.n.default', 'must be an integer', '1.5')
  })

  it('duplicate task ids', () => {
    const errors = errorsOf(workflow([task('a'), task('b'), task('a')]))
    errorAt(errors, 'tasks[2].id', 'task "a"', 'id "a"', 'already used by tasks[0]')
  })

  it('a map entry whose id does not match its key', () => {
    const errors = errorsOf(workflow({ fetch: { id: 'other', component: 'c', action: 'x' } }))
    errorAt(errors, 'tasks[0].id', 'task "fetch"', '"other"', 'does not match its key')
  })

  it('unknown dependency', () => {
    const errors = errorsOf(workflow([task('a'), task('b', { depends_on: ['a', 'ghost'] })]))
    errorAt(errors, 'tasks[1].depends_on[1]', 'task "b"', 'depends_on[1]', 'unknown task "ghost"')
  })

  it('self-dependency', () => {
    const errors = errorsOf(workflow([task('a', { depends_on: ['a'] })]))
    errorAt(errors, 'tasks[0].depends_on[0]', 'task "a"', 'depends_on[0]', 'the task itself')
  })

  it('a dependency cycle, printed with arrows', () => {
    const errors = errorsOf(
      workflow([task('x'), task('a', { depends_on: ['c'] }), task('b', { depends_on: ['a'] }), task('c', { depends_on: ['x', 'b'] })]),
    )
    const error = errorAt(errors, 'tasks[1].depends_on[0]', 'task "a"', 'depends_on[0]', 'a → c → b → a')
    expect(error.message).toContain('cycle')
    expect(errors).toHaveLength(1)
  })

  it('a two-task cycle and a separate three-task cycle are both reported', () => {
    const errors = errorsOf(
      workflow([
        task('p', { depends_on: ['q'] }),
        task('q', { depends_on: ['p'] }),
        task('r', { depends_on: ['t'] }),
        task('s', { depends_on: ['r'] }),
        task('t', { depends_on: ['s'] }),
      ]),
    )
    expect(errors.map((e) => e.message.split(': ').pop())).toEqual([
      expect.stringContaining('p → q → p'),
      expect.stringContaining('r → t → s → r'),
    ])
  })

  it('an expression that does not parse, with the path to the exact field', () => {
    const errors = errorsOf(workflow([task('a', { input: { data: { list: ['ok', '${input.x +}'] } } })]))
    errorAt(errors, 'tasks[0].input.data.list[1]', 'task "a"', 'input.data.list[1]', '${input.x +}')
  })

  it('a condition that does not parse or is not boolean', () => {
    const errors = errorsOf(workflow([task('a', { when: 'input.x ==' }), task('b', { when: '${size(input.items)}' })]))
    errorAt(errors, 'tasks[0].when', 'task "a"', 'when', 'input.x ==')
    errorAt(errors, 'tasks[1].when', 'task "b"', 'when', 'boolean')
  })

  it('an expression with an unknown root', () => {
    const errors = errorsOf(workflow([task('a', { input: { home: '${env.HOME}' } })]))
    errorAt(errors, 'tasks[0].input.home', 'task "a"', 'input.home', 'unknown name "env"')
  })

  it('an output mapping that does not parse', () => {
    const errors = errorsOf(workflow([task('a')], { output: { result: '${tasks.a.output +}' } }))
    errorAt(errors, 'output.result', 'output.result', '${tasks.a.output +}')
  })

  it('an expression reading a task that is not upstream', () => {
    const errors = errorsOf(workflow([task('a'), task('b'), task('c', { depends_on: ['a'], input: { v: 'x=${tasks.b.output}' } })]))
    errorAt(errors, 'tasks[2].input.v', 'task "c"', 'input.v', 'tasks.b', '"b" is not upstream of "c"', 'depends_on')
  })

  it('an expression reading a downstream task', () => {
    const errors = errorsOf(workflow([task('a', { input: '${tasks.b.output}' }), task('b', { depends_on: ['a'] })]))
    errorAt(errors, 'tasks[0].input', 'task "a"', 'input', '"b" is not upstream of "a"')
  })

  it('a condition reading a task that is not upstream', () => {
    const errors = errorsOf(workflow([task('a'), task('b', { when: 'tasks.a.status == "completed"' })]))
    errorAt(errors, 'tasks[1].when', 'task "b"', 'when', '"a" is not upstream of "b"')
  })

  it('a task reading its own result', () => {
    const errors = errorsOf(workflow([task('a', { input: { me: '${tasks.a.output}' } })]))
    errorAt(errors, 'tasks[0].input.me', 'task "a"', 'input.me', 'own result')
  })

  it('an expression reading a task that does not exist (task input and output mapping)', () => {
    const errors = errorsOf(workflow([task('a', { input: { v: '${tasks.nope.output}' } })], { output: { r: '${tasks.missing.status}' } }))
    errorAt(errors, 'tasks[0].input.v', 'task "a"', 'input.v', 'no task "nope"')
    errorAt(errors, 'output.r', 'output.r', 'no task "missing"')
  })

  it('non-positive timeouts', () => {
    const errors = errorsOf(workflow([task('a', { timeout: 0 }), task('b', { timeout: -5 })], { timeout: 0 }))
    errorAt(errors, 'tasks[0].timeout', 'task "a"', 'timeout', 'greater than 0')
    errorAt(errors, 'tasks[1].timeout', 'task "b"', 'timeout', 'greater than 0')
    errorAt(errors, 'timeout', 'timeout', 'greater than 0')
  })

  it('negative or fractional retries and a bad retry policy', () => {
    const errors = errorsOf(
      workflow([
        task('a', { retry: -1 }),
        task('b', { retry: 1.5 }),
        task('c', { retry: { max_attempts: 0, backoff_coefficient: 0.5, jitter: 2, initial_interval: -1, non_retryable_errors: [1] } }),
        task('d', { retry: 'often' }),
      ]),
    )
    errorAt(errors, 'tasks[0].retry', 'task "a"', 'retry', 'must not be negative')
    errorAt(errors, 'tasks[1].retry', 'task "b"', 'retry', 'whole number')
    errorAt(errors, 'tasks[2].retry.max_attempts', 'task "c"', 'retry.max_attempts', 'at least 1')
    errorAt(errors, 'tasks[2].retry.backoff_coefficient', 'task "c"', 'retry.backoff_coefficient', 'at least 1')
    errorAt(errors, 'tasks[2].retry.jitter', 'task "c"', 'retry.jitter', 'between 0 and 1')
    errorAt(errors, 'tasks[2].retry.initial_interval', 'task "c"', 'retry.initial_interval', 'negative')
    errorAt(errors, 'tasks[2].retry.non_retryable_errors[0]', 'task "c"', 'retry.non_retryable_errors[0]', 'string')
    errorAt(errors, 'tasks[3].retry', 'task "d"', 'retry', 'number of retries or a retry policy')
  })

  it('more tasks than the limit (default and configured)', () => {
    const tasks = Array.from({ length: 4 }, (_, i) => task(`t${i}`))
    const [error] = errorsOf(workflow(tasks), { maxTasks: 3 })
    expect(error).toStrictEqual({ path: 'tasks', message: expect.stringMatching(/at most 3 tasks, this one has 4/) as string })
    const many = Array.from({ length: 10_001 }, (_, i) => task(`t${i}`))
    expect(errorsOf(workflow(many))[0]!.message).toMatch(/at most 10000 tasks/)
    expect(errorsOf(workflow(Object.fromEntries(tasks.map((t) => [t.id, t]))), { maxTasks: 2 })[0]!.path).toBe('tasks')
  })

  it('unknown component and unknown action when a catalog is given', () => {
    const catalog: ComponentCatalog = {
      check: (component, action) => (component !== 'known' ? 'unknown_component' : action === 'go' ? 'ok' : 'unknown_action'),
    }
    const body = workflow([
      task('a', { component: 'known', action: 'go' }),
      task('b', { component: 'nope', action: 'go' }),
      task('c', { component: 'known', action: 'fly' }),
    ])
    const errors = errorsOf(body, { components: catalog })
    expect(errors).toHaveLength(2)
    errorAt(
      errors,
      'tasks[1].component',
      'task "b"',
      'component "nope"',
      'is not known',
      'POST /api/components',
      'HARMONIA_CONFIG',
      'Hermes',
    )
    errorAt(errors, 'tasks[2].action', 'task "c"', 'component "known"', 'no action "fly"')
    expect(() => parseWorkflowDefinition(body)).not.toThrow()
  })

  it('collects all errors at once, across classes', () => {
    const errors = errorsOf({
      name: '',
      tasks: [task('a', { timeout: 0 }), task('a'), task('b', { depends_on: ['zz'], input: '${tasks.a.output' })],
    })
    expect(errors.map((e) => e.path).sort()).toEqual(
      ['name', 'tasks[0].timeout', 'tasks[1].id', 'tasks[2].depends_on[0]', 'tasks[2].input'].sort(),
    )
  })

  it('puts every error into the ValidationError message', () => {
    try {
      parseWorkflowDefinition(workflow([task('a', { depends_on: ['x'] })]))
      expect.unreachable()
    } catch (error) {
      expect((error as ValidationError).message).toContain('tasks[0].depends_on[0]: task "a": depends_on[0] names unknown task "x"')
      expect((error as ValidationError).code).toBe('validation')
    }
  })
})

describe('parseWorkflowDefinition: large workflows', () => {
  it('validates 10,000 tasks with a join depending on 9,998 of them quickly', () => {
    const tasks: Task[] = [task('root')]
    for (let i = 1; i <= 9_998; i++)
      tasks.push(task(`t${i}`, { depends_on: ['root'], input: { i, from: '${tasks.root.output}', n: '${input.n}' } }))
    tasks.push(
      task('join', { depends_on: tasks.slice(1).map((t) => t.id), input: { first: '${tasks.t1.output}', root: '${tasks.root.output}' } }),
    )
    const started = performance.now()
    const definition = parseWorkflowDefinition(workflow(tasks))
    const elapsed = performance.now() - started
    expect(definition.tasks).toHaveLength(10_000)
    expect(definition.tasks[9_999]!.depends_on).toHaveLength(9_998)
    // No timing assertion (CI machines vary); locally this takes ~100-300 ms.
    console.info(`10,000-task fan-in validated in ${elapsed.toFixed(0)} ms`)
  })

  it('checks far upstream references along a 10,000-task chain without quadratic work', () => {
    const tasks: Task[] = [task('c0')]
    for (let i = 1; i < 10_000; i++) tasks.push(task(`c${i}`, { depends_on: [`c${i - 1}`], input: { first: '${tasks.c0.output}' } }))
    const started = performance.now()
    expect(parseWorkflowDefinition(workflow(tasks)).tasks).toHaveLength(10_000)
    console.info(`10,000-task chain validated in ${(performance.now() - started).toFixed(0)} ms`)
  })

  it('finds a cycle closing a 10,000-task chain without overflowing the stack', () => {
    const tasks: Task[] = [task('c0', { depends_on: ['c9999'] })]
    for (let i = 1; i < 10_000; i++) tasks.push(task(`c${i}`, { depends_on: [`c${i - 1}`] }))
    const errors = errorsOf(workflow(tasks))
    expect(errors).toHaveLength(1)
    expect(errors[0]!.message).toMatch(/^task "c0": depends_on\[0\] closes a dependency cycle: c0 → c9999 → c9998 → .* → c1 → c0/)
  })
})

describe('parseWorkflowDefinition: what a new user tripped over', () => {
  it('a workflow needs at least one task (list or map)', () => {
    errorAt(errorsOf(workflow([])), 'tasks', 'at least one task')
    errorAt(errorsOf(workflow({})), 'tasks', 'at least one task')
  })

  it("a task's `output` (the seed's data model) is kept as given", () => {
    const output = { result: 'the greeting', format: { type: 'string' } }
    const definition = parseWorkflowDefinition(workflow([task('a', { output })]))
    expect(definition.tasks[0]!.output).toStrictEqual(output)
    errorAt(errorsOf(workflow([task('a', { output: 'text' })])), 'tasks[0].output', 'task "a"', 'must be an object')
  })

  it('a condition that can never be boolean is refused (arithmetic over input is dyn to the checker)', () => {
    for (const when of ['${input.n + 1}', 'input.n * 2', '${-input.n}', '${input.a - input.b}']) {
      errorAt(errorsOf(workflow([task('a', { when })])), 'tasks[0].when', 'task "a"', 'must be a boolean')
    }
    for (const when of ['${input.n + 1 > 2}', '${input.flag}', 'input.s.startsWith("a")']) {
      expect(parseWorkflowDefinition(workflow([task('a', { when })])).tasks[0]!.when).toBe(when)
    }
  })
})
