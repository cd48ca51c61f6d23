import { expect, it } from 'vitest'
import { testEngine, until } from './support/harness.js'

it('scratch', async () => {
  const { harmonia, clock } = await testEngine()
  const child = await harmonia.createWorkflow({ name: 'c', input: { n: { type: 'integer', required: true } }, tasks: [{ id: 'e', component: 'harmonia', action: 'echo', input: { v: '${input.n}' } }] })
  const p = await harmonia.createWorkflow({ name: 'p', tasks: [{ id: 'call', component: 'harmonia', action: 'run_workflow', input: { workflow_id: child.workflow_id, input: { n: 'x' } } }] })
  const done = await harmonia.waitForExecution((await harmonia.startExecution({ workflow_id: p.workflow_id })).execution_id)
  console.log(JSON.stringify(done.task_executions.call))
  const all = await harmonia.listExecutions({ workflow_id: child.workflow_id })
  console.log('children', all.total)
  // paused parent receives signal
  const w = await harmonia.createWorkflow({ name: 'w', tasks: [{ id: 's', component: 'harmonia', action: 'wait_for_signal', input: { name: 'go' } }, { id: 'n', component: 'harmonia', action: 'noop', depends_on: ['s'] }] })
  const e = await harmonia.startExecution({ workflow_id: w.workflow_id })
  await until(async () => (await harmonia.listSignals(e.execution_id)).some((s) => s.waiting))
  await harmonia.pauseExecution(e.execution_id)
  console.log('signal while paused', await harmonia.sendSignal(e.execution_id, 'go', { payload: 1 }))
  await harmonia.flush()
  console.log(JSON.stringify((await harmonia.getExecution(e.execution_id)).task_executions))
  await harmonia.resumeExecution(e.execution_id)
  console.log((await harmonia.waitForExecution(e.execution_id)).status)
  // rerun a parent with a sub-workflow task
  const sub = await harmonia.createWorkflow({ name: 'sub', tasks: [{ id: 'e', component: 'harmonia', action: 'echo', input: { v: 1 } }], output: { v: '${tasks.e.output.v}' } })
  const pp = await harmonia.createWorkflow({ name: 'pp', tasks: [{ id: 'call', component: 'harmonia', action: 'run_workflow', input: { workflow_id: sub.workflow_id } }] })
  const d1 = await harmonia.waitForExecution((await harmonia.startExecution({ workflow_id: pp.workflow_id })).execution_id)
  const r = await harmonia.rerunExecution(d1.execution_id, { tasks: ['call'] })
  const d2 = await harmonia.waitForExecution(r.execution_id)
  console.log('rerun sub', d2.status, d1.task_executions.call!.child_execution_id, d2.task_executions.call!.child_execution_id, JSON.stringify(d2.task_executions.call!.output))
  // restore of checkpoint with child
  void clock
  await harmonia.close()
})
