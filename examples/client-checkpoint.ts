/**
 * The seed's "State Management and Checkpoints" with the TypeScript client: checkpoint a running execution, then
 * restore from the checkpoint. The restored execution keeps the completed tasks' outputs and runs the rest.
 * Given no execution id, it starts one of its own (ergon → a 1 s harmonia.sleep → prometheus) and checkpoints it once
 * the first task has completed. Needs a server with `ergon` and `prometheus`: `npx tsx examples/serve.ts`.
 *   HARMONIA_URL=http://127.0.0.1:8007 npx tsx examples/client-checkpoint.ts
 */
import { getHarmoniaClient, getHarmoniaStateClient, type Checkpoint, type Execution } from '../src/client/index.js'
import { runIfScript } from './run-main.js'

export type CheckpointExampleResult = { checkpoint: Checkpoint; restored: Execution }

export async function main(
  url: string,
  token?: string,
  options: { executionId?: string; log?: (line: string) => void } = {},
): Promise<CheckpointExampleResult> {
  const log = options.log ?? console.log
  const client = getHarmoniaClient({ url, ...(token ? { token } : {}) })
  const stateClient = getHarmoniaStateClient({ url, ...(token ? { token } : {}) })

  const executionId = options.executionId ?? (await startLongExecution(client))

  // Keep something in the execution's state: a checkpoint saves it, and the restored execution starts with it.
  await stateClient.saveState(executionId, { note: 'saved before the checkpoint' })

  // Create checkpoint for a running workflow
  const checkpoint = await stateClient.createCheckpoint(executionId)
  log(`Checkpoint ${checkpoint.checkpoint_id} of ${executionId}: completed ${JSON.stringify(checkpoint.completed_tasks)}`)

  // Restore from checkpoint
  const started = await client.restoreFromCheckpoint(checkpoint.checkpoint_id)
  log(`Restored workflow: ${started.execution_id}`)

  // Follow the restored execution to its end
  for await (const event of client.watchExecution(started.execution_id)) {
    log(`  #${event.seq} ${event.type}${event.task_id ? ` ${event.task_id}` : ''}`)
  }
  const restored = await client.getWorkflowStatus(started.execution_id)
  log(`Restored execution ${restored.execution_id} ${restored.status} (restored from ${restored.restored_from})`)
  return { checkpoint, restored }
}

/** Starts ergon → sleep → prometheus and resolves with its id once the first task has completed (mid-run). */
async function startLongExecution(client: ReturnType<typeof getHarmoniaClient>): Promise<string> {
  const workflow = await client.createWorkflow({
    name: 'checkpoint_example',
    tasks: [
      { id: 'task1', component: 'ergon', action: 'execute_command', input: { command: 'echo step one done' } },
      { id: 'wait', component: 'harmonia', action: 'sleep', input: { seconds: 1 }, depends_on: ['task1'] },
      {
        id: 'task2',
        component: 'prometheus',
        action: 'analyze_results',
        input: { data: '${tasks.task1.output.result}' },
        depends_on: ['wait'],
      },
    ],
  })
  const execution = await client.executeWorkflow({ workflow_id: workflow.workflow_id })
  for await (const event of client.watchExecution(execution.execution_id)) {
    if (event.type === 'task_completed' && event.task_id === 'task1') break // closes the stream
  }
  return execution.execution_id
}

runIfScript(import.meta.url, main)
