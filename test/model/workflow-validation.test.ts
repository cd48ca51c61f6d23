/**
 * Workflow validation, one row per rejected definition (moved from test/http/bad-input.test.ts, where a few
 * representative rows still go through the server): each body fails `parseWorkflowDefinition` with a ValidationError
 * whose message matches `detail` and whose `errors[].path` are exactly `paths` (or include them, with `somePaths`).
 * The 422 problem of the HTTP API is that error: `detail` is its message and `errors` its field errors.
 * Each row runs twice, as a user meets it: create (POST /api/workflows validates the body) and update (PUT merges the
 * body over the current definition, `{ ...current, ...body }`, as `updateWorkflow` does). A row whose body leaves out
 * what the merge fills in cannot fail on update and runs on create only.
 */
import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../src/errors.js'
import { parseWorkflowDefinition } from '../../src/model/validate.js'

type Row = {
  name: string
  body: Record<string, unknown>
  /** Matched against the error's message. */
  detail?: RegExp
  /** The paths of `errors[]`: exactly these, in any order, unless `somePaths`. */
  paths: string[]
  /** `paths` must be among the errors, others may be listed too. */
  somePaths?: boolean
  /** The body leaves out a field the update merge fills in from the current definition. */
  createOnly?: boolean
}

const task = (fields: Record<string, unknown> = {}) => ({ id: 'a', component: 'harmonia', action: 'noop', ...fields })
/** A workflow body: valid unless `fields` break it. */
const workflow = (fields: Record<string, unknown> = {}) => ({ name: 'bad input', tasks: [task()], ...fields })
/** A workflow body with one task changed. */
const withTask = (fields: Record<string, unknown>) => workflow({ tasks: [task(fields)] })

/** A stored definition to update: valid, and using every top-level field a body may leave out. */
const current = parseWorkflowDefinition({
  name: 'current',
  description: 'stored',
  metadata: { team: 'a' },
  input: { n: { type: 'integer', required: true } },
  output: {},
  tasks: [{ id: 'a', component: 'harmonia', action: 'echo', input: { n: '${input.n}' } }],
  max_concurrency: 2,
  timeout: 60,
  fail_fast: true,
})

// prettier-ignore
const rows: Row[] = [
  // --- workflows: missing fields
  { name: 'workflow without name', body: { tasks: [task()] }, detail: /name is required/, paths: ['name'], createOnly: true },
  { name: 'workflow without tasks', body: { name: 'x' }, detail: /tasks/, paths: ['tasks'], createOnly: true },
  { name: 'task without component', body: { name: 'x', tasks: [{ id: 'a', action: 'noop' }] }, detail: /task "a": component is required/, paths: ['tasks[0].component'] },
  { name: 'task without action', body: { name: 'x', tasks: [{ id: 'a', component: 'harmonia' }] }, detail: /action is required/, paths: ['tasks[0].action'] },
  { name: 'task without id', body: { name: 'x', tasks: [{ component: 'harmonia', action: 'noop' }] }, detail: /id is required/, paths: ['tasks[0].id'] },

  // --- workflows: wrong types, field by field
  { name: 'name: number', body: workflow({ name: 42 }), detail: /name must be a string/, paths: ['name'] },
  { name: 'name: empty', body: workflow({ name: '' }), detail: /name must not be empty/, paths: ['name'] },
  { name: 'description: array', body: workflow({ description: [] }), detail: /description must be a string/, paths: ['description'] },
  { name: 'version: object', body: workflow({ version: {} }), detail: /version must be a string or a number/, paths: ['version'] },
  { name: 'workflow metadata: string', body: workflow({ metadata: 'x' }), detail: /metadata must be an object/, paths: ['metadata'] },
  { name: 'workflow input: string', body: workflow({ input: 'n' }), detail: /input must be an object of input fields/, paths: ['input'] },
  { name: 'input field: bad type', body: workflow({ input: { n: { type: 'bogus' } } }), detail: /input\.n\.type must be one of string, number/, paths: ['input.n.type'] },
  { name: 'input field: required not a boolean', body: workflow({ input: { n: { required: 'yes' } } }), detail: /must be true or false/, paths: ['input.n.required'] },
  { name: 'input field: default of the wrong type', body: workflow({ input: { n: { type: 'integer', default: 'ten' } } }), detail: /input\.n\.default must be an integer/, paths: ['input.n.default'] },
  { name: 'output: number', body: workflow({ output: 5 }), detail: /output must be an object/, paths: ['output'] },
  { name: 'tasks: string', body: workflow({ tasks: 'a,b' }), detail: /tasks must be a list of tasks/, paths: ['tasks'] },
  { name: 'tasks[0]: number', body: workflow({ tasks: [5] }), detail: /must be an object/, paths: ['tasks[0]'] },
  { name: 'max_concurrency: fraction', body: workflow({ max_concurrency: 1.5 }), detail: /max_concurrency must be a whole number/, paths: ['max_concurrency'] },
  { name: 'max_concurrency: 0', body: workflow({ max_concurrency: 0 }), detail: /max_concurrency must be at least 1/, paths: ['max_concurrency'] },
  { name: 'timeout: 0', body: workflow({ timeout: 0 }), detail: /timeout must be greater than 0 seconds/, paths: ['timeout'] },
  { name: 'timeout: string', body: workflow({ timeout: '10' }), detail: /timeout must be a number of seconds/, paths: ['timeout'] },
  { name: 'fail_fast: string', body: workflow({ fail_fast: 'yes' }), detail: /fail_fast must be true or false/, paths: ['fail_fast'] },
  { name: 'task id: number', body: withTask({ id: 7 }), detail: /id must be a string/, paths: ['tasks[0].id'] },
  { name: 'task name: number', body: withTask({ name: 7 }), detail: /task "a": name must be a string/, paths: ['tasks[0].name'] },
  { name: 'task component: number', body: withTask({ component: 5 }), detail: /task "a": component must be a string/, paths: ['tasks[0].component'] },
  { name: 'task action: null', body: withTask({ action: null }), detail: /task "a": action must be a string/, paths: ['tasks[0].action'] },
  { name: 'task depends_on: string', body: withTask({ depends_on: 'b' }), detail: /depends_on must be a list of task ids/, paths: ['tasks[0].depends_on'] },
  { name: 'task timeout: negative', body: withTask({ timeout: -1 }), detail: /task "a": timeout must be greater than 0 seconds/, paths: ['tasks[0].timeout'] },
  { name: 'task retry: string', body: withTask({ retry: '3' }), detail: /retry must be a number of retries or a retry policy object/, paths: ['tasks[0].retry'] },
  { name: 'task retry: negative', body: withTask({ retry: -1 }), detail: /retry/, paths: ['tasks[0].retry'] },
  { name: 'task retry.max_attempts: 0', body: withTask({ retry: { max_attempts: 0 } }), detail: /max_attempts must be at least 1/, paths: ['tasks[0].retry.max_attempts'] },
  { name: 'task retry.jitter: 2', body: withTask({ retry: { jitter: 2 } }), detail: /jitter/, paths: ['tasks[0].retry.jitter'] },
  { name: 'task when: number', body: withTask({ when: 5 }), detail: /when must be a string/, paths: ['tasks[0].when'] },
  { name: 'task metadata: array', body: withTask({ metadata: [] }), detail: /metadata must be an object/, paths: ['tasks[0].metadata'] },
  { name: 'several errors at once', body: { name: 1, tasks: [{ id: 'a', component: 2, action: 'noop', timeout: 'x' }] }, detail: /name must be a string/, paths: ['name', 'tasks[0].component', 'tasks[0].timeout'] },
  { name: 'task depends_on[0]: number', body: withTask({ depends_on: [1] }), detail: /depends_on/, paths: ['tasks[0].depends_on[0]'] },

  // --- huge numbers
  { name: 'timeout: 1e308', body: workflow({ timeout: 1e308 }), detail: /timeout must be at most 2147483 seconds/, paths: ['timeout'] },
  { name: 'task timeout: 1e308', body: withTask({ timeout: 1e308 }), detail: /task "a": timeout must be at most/, paths: ['tasks[0].timeout'] },
  { name: 'retry.max_interval: 1e308', body: withTask({ retry: { max_attempts: 3, initial_interval: 1e308, max_interval: 1e308 } }), detail: /retry\.max_interval must be at most/, paths: ['tasks[0].retry.initial_interval', 'tasks[0].retry.max_interval'] },
  { name: 'timeout: 30 days', body: workflow({ timeout: 30 * 86_400 }), detail: /about 24\.8 days/, paths: ['timeout'] },

  // --- task graph
  { name: 'dependency cycle', body: workflow({ tasks: [task({ id: 'a', depends_on: ['b'] }), task({ id: 'b', depends_on: ['a'] })] }), detail: /closes a dependency cycle: a → b → a/, paths: ['tasks[0].depends_on[0]'] },
  { name: 'three-task cycle', body: workflow({ tasks: [task({ id: 'a', depends_on: ['c'] }), task({ id: 'b', depends_on: ['a'] }), task({ id: 'c', depends_on: ['b'] })] }), detail: /dependency cycle: a → c → b → a/, paths: ['tasks[0].depends_on[0]'] },
  { name: 'self dependency', body: withTask({ depends_on: ['a'] }), detail: /names the task itself/, paths: ['tasks[0].depends_on[0]'] },
  { name: 'unknown dependency', body: workflow({ tasks: [task({ id: 'a' }), task({ id: 'b', depends_on: ['a', 'ghost'] })] }), detail: /depends_on\[1\] names unknown task "ghost"/, paths: ['tasks[1].depends_on[1]'] },
  { name: 'duplicate task ids', body: workflow({ tasks: [task({ id: 'a' }), task({ id: 'b' }), task({ id: 'a' })] }), detail: /id "a" is already used by tasks\[0\]/, paths: ['tasks[2].id'] },
  { name: 'map form: id differs from its key', body: { name: 'x', tasks: { a: { id: 'b', component: 'harmonia', action: 'noop' } } }, detail: /does not match its key "a"/, paths: ['tasks[0].id'] },

  // --- expressions
  { name: 'unterminated ${', body: withTask({ input: '${tasks.' }), detail: /unterminated/, paths: ['tasks[0].input'] },
  { name: 'bad CEL in when', body: withTask({ when: '1 +' }), detail: /invalid expression/, paths: ['tasks[0].when'] },
  { name: 'bad CEL deep in an input', body: withTask({ input: { list: [{ x: '${input.n +* 2}' }] } }), detail: /invalid expression/, paths: ['tasks[0].input.list[0].x'] },
  { name: 'reads a task that is not upstream', body: workflow({ tasks: [task({ id: 'a', input: { x: '${tasks.b.output}' } }), task({ id: 'b' })] }), detail: /reads tasks\.b, but "b" is not upstream of "a"/, paths: ['tasks[0].input.x'] },
  { name: 'output reads an unknown task', body: workflow({ output: { r: '${tasks.ghost.output}' } }), detail: /there is no task "ghost"/, paths: ['output.r'] },

  // --- __proto__ / constructor: plain names, never a task
  { name: 'depends_on "__proto__" (no such task)', body: withTask({ depends_on: ['__proto__'] }), detail: /unknown task "__proto__"/, paths: ['tasks[0].depends_on[0]'] },
  { name: 'depends_on "constructor" (no such task)', body: withTask({ depends_on: ['constructor', 'toString'] }), paths: ['tasks[0].depends_on[0]', 'tasks[0].depends_on[1]'] },
  { name: 'an expression reading tasks.constructor (no such task)', body: workflow({ output: { r: '${tasks.constructor.output}', s: '${tasks.__proto__.output}' } }), paths: ['output.r', 'output.s'] },
]

/** Parses `body`, expecting the row's ValidationError. */
function expectRejected(body: unknown, row: Row): void {
  let error: unknown
  try {
    parseWorkflowDefinition(body)
  } catch (e) {
    error = e
  }
  expect(error, 'the definition is rejected').toBeInstanceOf(ValidationError)
  const { message, errors } = error as ValidationError
  if (row.detail) expect(message).toMatch(row.detail)
  expect(errors.length, 'a rejection names the fields').toBeGreaterThan(0)
  for (const e of errors) {
    expect(typeof e.path).toBe('string')
    expect(e.message.length).toBeGreaterThan(0)
  }
  const paths = errors.map((e) => e.path)
  if (row.somePaths) expect(paths).toEqual(expect.arrayContaining(row.paths))
  else expect([...paths].sort()).toEqual([...row.paths].sort())
}

describe('workflow validation', () => {
  it('has unique row names, and the bodies the rows break are valid on create and on update', () => {
    expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length)
    for (const body of [workflow(), withTask({}), { name: 'x', tasks: [task()] }]) {
      expect(() => parseWorkflowDefinition(body)).not.toThrow()
      expect(() => parseWorkflowDefinition({ ...current, ...body })).not.toThrow()
    }
  })

  describe('create: parseWorkflowDefinition(body)', () => {
    it.each(rows)('$name', (row) => expectRejected(row.body, row))
  })

  describe('update: parseWorkflowDefinition({ ...current, ...body })', () => {
    it.each(rows.filter((row) => !row.createOnly))('$name', (row) => expectRejected({ ...current, ...row.body }, row))
  })

  it('update: a body that leaves out name or tasks keeps the current ones', () => {
    for (const row of rows.filter((r) => r.createOnly)) {
      expect(() => parseWorkflowDefinition({ ...current, ...row.body }), row.name).not.toThrow()
    }
  })
})
