/**
 * The seed's "Template-Based Workflows" with the TypeScript client. The basic example's two tasks, with
 * `${params.input_file}` and `${params.output_format}` marking where a template's values go, become the
 * `process_data_template`; it is instantiated twice with different values and each instance is executed.
 * Needs a server with `ergon` and `prometheus` registered: `npx tsx examples/serve.ts`.
 *   HARMONIA_URL=http://127.0.0.1:8007 npx tsx examples/client-template.ts
 */
import { getHarmoniaClient, type Execution, type Template, type Workflow } from '../src/client/index.js'
import { runIfScript } from './run-main.js'

export type TemplateExampleResult = { template: Template; instances: { workflow: Workflow; execution: Execution }[] }

/** The values of the seed's instantiation, then a second set that leaves `output_format` to its default. */
export const EXAMPLE_VALUES: Record<string, unknown>[] = [
  { input_file: '/path/to/data.csv', output_format: 'xml' },
  { input_file: '/path/to/other.csv' },
]

export async function main(
  url: string,
  token?: string,
  options: { workflowDefinitionId?: string; parameterValues?: Record<string, unknown>[]; log?: (line: string) => void } = {},
): Promise<TemplateExampleResult> {
  const log = options.log ?? console.log
  const client = getHarmoniaClient({ url, ...(token ? { token } : {}) })

  // The workflow the template is made from (the seed's "workflow-uuid-here").
  const workflowDefinitionId =
    options.workflowDefinitionId ??
    (
      await client.createWorkflow({
        name: 'process_data',
        description: 'Processes a data file into a format',
        tasks: [
          {
            id: 'task1',
            component: 'ergon',
            action: 'execute_command',
            input: { command: 'echo processing ${params.input_file} as ${params.output_format}' },
          },
          {
            id: 'task2',
            component: 'prometheus',
            action: 'analyze_results',
            input: { data: '${tasks.task1.output.result}' },
            depends_on: ['task1'],
          },
        ],
      })
    ).workflow_id

  // Create a template from an existing workflow
  const template = await client.createTemplate({
    name: 'process_data_template',
    workflow_definition_id: workflowDefinitionId,
    parameters: {
      input_file: { type: 'string', required: true, description: 'Input file path' },
      output_format: { type: 'string', required: false, default: 'json', description: 'Output format' },
    },
  })
  log(`Created template ${template.template_id} (${template.name})`)

  const instances: TemplateExampleResult['instances'] = []
  for (const parameter_values of options.parameterValues ?? EXAMPLE_VALUES) {
    // Instantiate the template
    const workflow = await client.instantiateTemplate(template.template_id, { parameter_values })
    log(`Instantiated ${workflow.workflow_id} (${workflow.name}) with ${JSON.stringify(parameter_values)}`)

    // Execute the instantiated workflow, and follow it to its end
    const started = await client.executeWorkflow({ workflow_id: workflow.workflow_id })
    for await (const _event of client.watchExecution(started.execution_id)) {
      // the stream ends after the terminal event
    }
    const execution = await client.getWorkflowStatus(started.execution_id)
    log(`  execution ${execution.execution_id} ${execution.status}: ${JSON.stringify(execution.task_executions.task1?.output)}`)
    instances.push({ workflow, execution })
  }
  return { template, instances }
}

runIfScript(import.meta.url, main)
