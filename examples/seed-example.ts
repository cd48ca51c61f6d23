/**
 * The seed document's client example, run in-process by embedding the engine (`npx tsx examples/seed-example.ts`;
 * the same over HTTP with the client is examples/client-basic.ts): task1 (ergon.execute_command) and task2
 * (prometheus.analyze_results) that reads task1's result. The two components are registered here as in-process
 * handlers; this ergon only understands `echo ...` (Harmonia never runs shell commands unless an operator enables it).
 */
import { createHarmonia, type Harmonia } from '../src/index.js'

export async function runSeedExample(log: (line: string) => void = console.log): Promise<void> {
  const harmonia: Harmonia = await createHarmonia({
    components: {
      ergon: {
        execute_command: (input: { command: string }) => {
          const match = /^echo (.*)$/.exec(input.command)
          if (!match) throw new Error(`this example's ergon only runs echo, not: ${input.command}`)
          return { result: match[1], exit_code: 0 }
        },
      },
      prometheus: {
        analyze_results: (input: { data: string }) => ({ words: input.data.split(/\s+/).length, length: input.data.length }),
      },
    },
  })
  try {
    const workflow = await harmonia.createWorkflow({
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
      output: { analysis: '${tasks.task2.output}' },
    })
    log(`created workflow ${workflow.workflow_id} (${workflow.name} v${workflow.version})`)
    const execution = await harmonia.startExecution({ workflow_id: workflow.workflow_id })
    log(`started execution ${execution.execution_id}`)
    await harmonia.subscribe(execution.execution_id, (e) =>
      log(
        `  #${e.seq} ${e.type}${e.task_id ? ` ${e.task_id}` : ''}${e.type.endsWith('completed') && e.task_id ? ` → ${JSON.stringify(e.data.output)}` : ''}`,
      ),
    )
    const done = await harmonia.waitForExecution(execution.execution_id)
    log(`Workflow status: ${done.status}; output ${JSON.stringify(done.output)}`)
  } finally {
    await harmonia.close()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runSeedExample()
