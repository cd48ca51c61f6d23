import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { RetrySchema, TaskSchema, WorkflowDefinitionSchema } from '../../src/model/workflow.schema.js'

describe('workflow schemas (reused by the HTTP layer)', () => {
  it('normalise a map of tasks to a list, taking ids from the keys', () => {
    const output = v.parse(WorkflowDefinitionSchema, {
      name: 'x',
      tasks: { a: { component: 'c', action: 'y' }, b: { component: 'c', action: 'y', depends_on: ['a'] } },
    })
    expect(output.tasks.map((t) => [t.id, t.depends_on])).toEqual([
      ['a', []],
      ['b', ['a']],
    ])
  })

  it('accept the documented retry forms', () => {
    expect(v.is(RetrySchema, 3)).toBe(true)
    expect(v.is(RetrySchema, { max_attempts: 5, jitter: true })).toBe(true)
    expect(v.is(RetrySchema, { jitter: 0.3 })).toBe(true)
    expect(v.is(RetrySchema, -1)).toBe(false)
    expect(v.is(RetrySchema, { max_attempts: 1.5 })).toBe(false)
  })

  it('apply task defaults', () => {
    expect(v.parse(TaskSchema, { id: 'a', component: 'c', action: 'y' })).toStrictEqual({
      id: 'a',
      component: 'c',
      action: 'y',
      input: {},
      depends_on: [],
      metadata: {},
    })
  })
})
