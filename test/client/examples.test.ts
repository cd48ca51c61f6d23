import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main as basicExample } from '../../examples/client-basic.js'
import { main as checkpointExample } from '../../examples/client-checkpoint.js'
import { main as templateExample } from '../../examples/client-template.js'
import { ergon, prometheus } from '../../examples/components.js'
import { getHarmoniaClient, type ExecutionEvent } from '../../src/client/index.js'
import type { HandlerContext } from '../../src/components/handler.js'
import type { RunningServer } from '../../src/http/server.js'
import { deferred, until } from '../support/async.js'
import { startTestServer } from './server.js'

/**
 * The seed's three client examples end to end against a started server, with `ergon` and `prometheus` as in-process
 * handlers (and a `gate` whose first call holds until the test opens it, to checkpoint mid-run).
 */

let server: RunningServer
const held = deferred<void>()
let gateCalls = 0
const quiet = () => {}

beforeAll(async () => {
  server = await startTestServer({
    ergon,
    prometheus,
    gate: {
      // The first call holds until the test opens the gate; later ones (the restored execution's) pass at once.
      hold: async (_input: unknown, ctx: HandlerContext) => {
        if (++gateCalls === 1) await held.promise
        return { passed_on: ctx.executionId }
      },
    },
  })
})
afterAll(async () => {
  held.resolve()
  await server.close()
})

describe('client examples', () => {
  it('basic: the workflow completes and task2 gets task1 result', async () => {
    const lines: string[] = []
    const { workflow, execution } = await basicExample(server.url, undefined, (line) => lines.push(line))
    expect(workflow).toMatchObject({ name: 'example_workflow', description: 'Example workflow', version: 1 })
    expect(execution.status).toBe('completed')
    expect(execution.task_executions.task1).toMatchObject({ status: 'completed', output: { result: 'Hello World', exit_code: 0 } })
    expect(execution.task_executions.task2).toMatchObject({
      status: 'completed',
      input: { data: 'Hello World' },
      output: { data: 'Hello World', words: 2, length: 11 },
    })
    expect(lines).toContain('Workflow status: completed')
  })

  it('template: instantiated twice with different values, each instance runs with its values', async () => {
    const { template, instances } = await templateExample(server.url, undefined, {
      parameterValues: [{ input_file: '/data/a.csv', output_format: 'xml' }, { input_file: '/data/b.csv' }],
      log: quiet,
    })
    expect(template).toMatchObject({
      name: 'process_data_template',
      parameters: {
        input_file: { type: 'string', required: true, description: 'Input file path' },
        output_format: { type: 'string', required: false, default: 'json', description: 'Output format' },
      },
    })
    expect(instances).toHaveLength(2)
    const [a, b] = instances
    expect(a!.workflow.workflow_id).not.toBe(b!.workflow.workflow_id)
    expect(a!.workflow.tasks[0]!.input).toEqual({ command: 'echo processing /data/a.csv as xml' })
    expect(b!.workflow.tasks[0]!.input).toEqual({ command: 'echo processing /data/b.csv as json' }) // the default
    expect(a!.execution.status).toBe('completed')
    expect(b!.execution.status).toBe('completed')
    expect(a!.execution.task_executions.task2!.output).toMatchObject({ data: 'processing /data/a.csv as xml' })
    expect(b!.execution.task_executions.task2!.output).toMatchObject({ data: 'processing /data/b.csv as json' })
  })

  it('template: the seed values by default', async () => {
    const { instances } = await templateExample(server.url, undefined, { log: quiet })
    expect(instances[0]!.execution.task_executions.task1!.output).toMatchObject({ result: 'processing /path/to/data.csv as xml' })
  })

  it('checkpoint: created mid-run and restored; the restored execution has restored_from and completes', async () => {
    const client = getHarmoniaClient({ url: server.url })
    const workflow = await client.createWorkflow({
      name: 'checkpoint_mid_run',
      tasks: [
        { id: 'task1', component: 'ergon', action: 'execute_command', input: { command: 'echo first step' } },
        { id: 'hold', component: 'gate', action: 'hold', depends_on: ['task1'] },
        {
          id: 'task2',
          component: 'prometheus',
          action: 'analyze_results',
          input: { data: '${tasks.task1.output.result}' },
          depends_on: ['hold'],
        },
      ],
    })
    const original = await client.executeWorkflow({ workflow_id: workflow.workflow_id })
    await until(
      async () => (await client.getWorkflowStatus(original.execution_id)).task_executions.hold?.status === 'running',
      'hold running',
    )

    const { checkpoint, restored } = await checkpointExample(server.url, undefined, { executionId: original.execution_id, log: quiet })
    expect(checkpoint).toMatchObject({
      execution_id: original.execution_id,
      workflow_status: 'running',
      task_statuses: { task1: 'completed', hold: 'running', task2: 'pending' },
      completed_tasks: ['task1'],
      state_data: { note: 'saved before the checkpoint' },
    })
    expect(restored.restored_from).toBe(checkpoint.checkpoint_id)
    expect(restored.execution_id).not.toBe(original.execution_id)
    expect(restored.status).toBe('completed')
    expect(restored.task_executions.task1).toMatchObject({ status: 'completed', output: { result: 'first step', exit_code: 0 } })
    expect(restored.task_executions.hold!.output).toEqual({ passed_on: restored.execution_id })
    expect(restored.task_executions.task2!.output).toMatchObject({ data: 'first step' })
    // The carried-over task did not run again: no task_started for it in the restored execution's log.
    const events: ExecutionEvent[] = (await client.getExecutionHistory(restored.execution_id)).events
    expect(events[0]!.seq).toBe(1)
    expect(events.filter((e) => e.type === 'task_started').map((e) => e.task_id)).toEqual(['hold', 'task2'])
    expect((await client.getWorkflowStatus(original.execution_id)).status).toBe('running') // still held

    held.resolve()
    for await (const _event of client.watchExecution(original.execution_id)) {
      // to its end
    }
    expect((await client.getWorkflowStatus(original.execution_id)).status).toBe('completed')
  })

  it('checkpoint: without an execution id, the example checkpoints a run of its own mid-run', async () => {
    const { checkpoint, restored } = await checkpointExample(server.url, undefined, { log: quiet })
    expect(checkpoint.completed_tasks).toContain('task1')
    expect(checkpoint.task_statuses.task2).toBe('pending')
    expect(restored).toMatchObject({ status: 'completed', restored_from: checkpoint.checkpoint_id })
    expect(restored.task_executions.task2!.output).toMatchObject({ data: 'step one done' })
  })
})
