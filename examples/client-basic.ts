/**
 * The seed's "Basic Workflow Creation and Execution" with the TypeScript client: a two-task workflow where task2
 * (prometheus.analyze_results) reads task1's (ergon.execute_command) result, executed and followed to its end.
 * Needs a server with `ergon` and `prometheus` registered: `npx tsx examples/serve.ts` (in-process handlers), or
 * `npm start` with the real components (README "Run the seed's basic example against npm start"):
 *   PROMETHEUS_SECRET=s node examples/components/prometheus.mjs &
 *   HARMONIA_CONFIG=examples/tekton.yaml HARMONIA_ENABLE_SHELL=1 PROMETHEUS_SECRET=s npm start
 *   HARMONIA_URL=http://127.0.0.1:8007 npx tsx examples/client-basic.ts
 */
import { getHarmoniaClient, type Execution, type Workflow } from '../src/client/index.js'
import { runIfScript } from './run-main.js'

export async function main(
  url: string,
  token?: string,
  log: (line: string) => void = console.log,
): Promise<{ workflow: Workflow; execution: Execution }> {
  const client = getHarmoniaClient({ url, ...(token ? { token } : {}) })

  // Create a workflow
  const workflow = await client.createWorkflow({
    name: 'example_workflow',
    description: 'Example workflow',
    tasks: [
      { id: 'task1', component: 'ergon', action: 'execute_command', input: { command: 'echo Hello World' } },
      {
        id: 'task2',
        component: 'prometheus',
        action: 'analyze_results',
        input: { data: '${tasks.task1.output.result}' },
        depends_on: ['task1'],
      },
    ],
  })
  log(`Created workflow ${workflow.workflow_id} (${workflow.name} v${workflow.version})`)

  // Execute the workflow
  const started = await client.executeWorkflow({ workflow_id: workflow.workflow_id })
  log(`Started execution ${started.execution_id} (${started.status})`)

  // Follow it to its end: the event stream ends after workflow_completed, workflow_failed or workflow_canceled
  for await (const event of client.watchExecution(started.execution_id)) {
    log(`  #${event.seq} ${event.type}${event.task_id ? ` ${event.task_id}` : ''}`)
  }

  // Get workflow status
  const execution = await client.getWorkflowStatus(started.execution_id)
  log(`Workflow status: ${execution.status}`)
  log(`task2 analysed: ${JSON.stringify(execution.task_executions.task2?.output)}`)
  return { workflow, execution }
}

runIfScript(import.meta.url, main)
