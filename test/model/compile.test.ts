import { describe, expect, it } from 'vitest'
import { evaluateCondition, evaluateValue, isConstant, referencedTasks } from '../../src/expressions/index.js'
import { compileWorkflow } from '../../src/model/compile.js'
import type { WorkflowDefinition } from '../../src/model/definition.js'
import { parseWorkflowDefinition } from '../../src/model/validate.js'

const body = {
  name: 'wf',
  output: { total: '${tasks.b.output.n * 2}' },
  tasks: [
    { id: 'a', component: 'c', action: 'x', input: { fixed: 1 } },
    { id: 'b', component: 'c', action: 'x', depends_on: ['a'], input: { n: '${tasks.a.output.n}' }, when: 'tasks.a.status == "completed"' },
  ],
}

describe('compileWorkflow', () => {
  it('compiles every task input, condition and the output, index-aligned with the definition', () => {
    const definition = parseWorkflowDefinition(body)
    const compiled = compileWorkflow(definition)
    expect(compiled.definition).toBe(definition)
    expect(compiled.tasks).toHaveLength(2)
    expect(isConstant(compiled.tasks[0]!.input)).toBe(true)
    expect(compiled.tasks[0]!.when).toBeUndefined()
    expect(referencedTasks(compiled.tasks[1]!.input)).toEqual(['a'])

    const views = { a: { output: { n: 3 }, status: 'completed' }, b: { output: { n: 4 }, status: 'completed' } }
    const scope = { tasks: (id: string) => views[id as 'a' | 'b'] }
    expect(evaluateValue(compiled.tasks[0]!.input, scope)).toStrictEqual({ fixed: 1 })
    expect(evaluateValue(compiled.tasks[1]!.input, scope)).toStrictEqual({ n: 3 })
    expect(evaluateCondition(compiled.tasks[1]!.when!, scope)).toBe(true)
    expect(evaluateValue(compiled.output, scope)).toStrictEqual({ total: 8 })
  })

  it('reuses what parseWorkflowDefinition compiled, and memoises per definition', () => {
    const definition = parseWorkflowDefinition(body)
    expect(compileWorkflow(definition)).toBe(compileWorkflow(definition))
  })

  it('compiles a stored definition (a plain copy) without validating it again', () => {
    const stored = JSON.parse(JSON.stringify(parseWorkflowDefinition(body))) as WorkflowDefinition
    // Not re-validated: an upstream check would reject this reference, compiling does not.
    stored.tasks[0]!.input = { late: '${tasks.b.output}' }
    const compiled = compileWorkflow(stored)
    expect(referencedTasks(compiled.tasks[0]!.input)).toEqual(['b'])
  })

  it('throws for an expression that does not compile', () => {
    const stored = JSON.parse(JSON.stringify(parseWorkflowDefinition(body))) as WorkflowDefinition
    stored.output = { bad: '${tasks.a.output +}' }
    expect(() => compileWorkflow(stored)).toThrow(/invalid expression/)
  })
})
