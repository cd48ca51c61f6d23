import { afterEach, expect, it } from 'vitest'
import { DEFAULT_EXPRESSION_BUDGET, setExpressionBudget } from '../../src/expressions/budget.js'
import { ValidationError } from '../../src/errors.js'
import { describeEachStore, testEngine, type TestEngine } from '../support/harness.js'

let engine: TestEngine | undefined
afterEach(async () => {
  await engine?.harmonia.close()
  engine = undefined
  setExpressionBudget(DEFAULT_EXPRESSION_BUDGET)
})

const big = Array.from({ length: 3000 }, (_, i) => i)
const quadratic = '${size(input.l.map(x, input.l.map(y, x + y)))}'

describeEachStore('bounded expressions in executions', () => {
  it('an input, a condition or an output mapping over budget fails with expression_budget_exceeded; the engine goes on', async () => {
    engine = await testEngine()
    const { harmonia } = engine
    const workflow = await harmonia.createWorkflow({
      name: 'costly',
      tasks: [
        { id: 'by_input', component: 'harmonia', action: 'echo', input: { n: quadratic } },
        { id: 'by_when', component: 'harmonia', action: 'noop', when: '${size(input.l.map(x, input.l.map(y, x + y))) > 0}' },
        { id: 'fine', component: 'harmonia', action: 'echo', input: { n: '${size(input.l)}' } },
      ],
    })
    const run = await harmonia.waitForExecution(
      (await harmonia.startExecution({ workflow_id: workflow.workflow_id, input: { l: big } })).execution_id,
    )
    expect(run.status).toBe('failed')
    for (const id of ['by_input', 'by_when']) {
      expect(run.task_executions[id]).toMatchObject({ status: 'failed', error: { code: 'expression_budget_exceeded', retryable: false } })
    }
    expect(run.task_executions.fine).toMatchObject({ status: 'completed', output: { n: 3000 } })

    const mapping = await harmonia.createWorkflow({
      name: 'costly output',
      tasks: [{ id: 'a', component: 'harmonia', action: 'noop' }],
      output: { n: quadratic },
    })
    const mapped = await harmonia.waitForExecution(
      (await harmonia.startExecution({ workflow_id: mapping.workflow_id, input: { l: big } })).execution_id,
    )
    expect(mapped).toMatchObject({ status: 'failed', error: { code: 'expression_budget_exceeded' } })
    expect(mapped.error!.message).toMatch(/^output: /)
  })

  it('the budget is an option (a small one refuses what the default runs)', async () => {
    engine = await testEngine({ expressionBudget: 1000 })
    const { harmonia } = engine
    const workflow = await harmonia.createWorkflow({
      name: 'w',
      tasks: [{ id: 'a', component: 'harmonia', action: 'echo', input: { n: '${size(input.l.map(x, x))}' } }],
    })
    const run = await harmonia.waitForExecution(
      (await harmonia.startExecution({ workflow_id: workflow.workflow_id, input: { l: big } })).execution_id,
    )
    expect(run.task_executions.a).toMatchObject({ status: 'failed', error: { code: 'expression_budget_exceeded' } })
  })

  it('a regex RE2 refuses is a 422 at create naming the field; a catastrophic one runs in linear time', async () => {
    engine = await testEngine()
    const { harmonia } = engine
    const error = await harmonia
      .createWorkflow({ name: 'w', tasks: [{ id: 'a', component: 'harmonia', action: 'noop', when: '${input.s.matches("(a)\\\\1")}' }] })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).errors).toEqual([{ path: 'tasks[0].when', message: expect.stringMatching(/not valid RE2/) }])
    const workflow = await harmonia.createWorkflow({
      name: 'w',
      tasks: [{ id: 'a', component: 'harmonia', action: 'echo', input: { ok: '${input.s.matches("^(a+)+$")}' } }],
    })
    const run = await harmonia.waitForExecution(
      (await harmonia.startExecution({ workflow_id: workflow.workflow_id, input: { s: `${'a'.repeat(60)}!` } })).execution_id,
    )
    expect(run.task_executions.a).toMatchObject({ status: 'completed', output: { ok: false } })
  })
})
