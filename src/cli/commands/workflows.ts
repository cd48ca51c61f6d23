import type { InputField } from '../../model/definition.js'
import { isJsonSchemaInput } from '../../model/json-schema-input.js'
import type { HarmoniaClient, Workflow, WorkflowRequest } from '../../client/index.js'
import {
  bool,
  JSON_OPTION,
  PAGE_OPTIONS,
  pageQuery,
  printAnswer,
  printPage,
  VERSION_OPTION,
  versionQuery,
  type Command,
  type CommandContext,
} from '../command.js'
import { loadObject } from '../documents.js'
import { fieldText, formatTable, formatTime, prettyJson } from '../format.js'
import { EXIT } from '../io.js'

/** Every workflow whose name is exactly `name` (the list filter matches substrings), newest update first. */
export async function findWorkflowsByName(client: HarmoniaClient, name: string): Promise<Workflow[]> {
  const found: Workflow[] = []
  for (let offset = 0; ;) {
    const page = await client.listWorkflows({ filter: name, limit: 1000, offset })
    found.push(...page.items.filter((w) => w.name === name))
    offset += page.items.length
    if (page.items.length === 0 || offset >= page.total) break
  }
  return found.sort((a, b) => b.updated_at.localeCompare(a.updated_at))
}

/** Creates the workflow of a file, or updates the one with the same name. */
export async function applyWorkflowFile(ctx: CommandContext, path: string): Promise<{ workflow: Workflow; created: boolean }> {
  const body = (await loadObject(path, ctx.io.cwd, 'a workflow definition')) as WorkflowRequest
  const client = ctx.client()
  // No name: let the server answer with its 422 naming the field.
  const existing = typeof body.name === 'string' ? await findWorkflowsByName(client, body.name) : []
  const [target, ...others] = existing
  if (others.length > 0) {
    ctx.io.stderr.write(
      `warning: ${existing.length} workflows are named "${body.name}"; updating the last updated, ${target!.workflow_id}\n`,
    )
  }
  if (target) return { workflow: await client.updateWorkflow(target.workflow_id, body), created: false }
  return { workflow: await client.createWorkflow(body), created: true }
}

const describeWorkflow = (w: Workflow) => `${w.workflow_id} (${w.name} v${w.version})`

export const workflowCommands: Command[] = [
  {
    name: 'workflows apply',
    args: '<file.yaml|file.json>',
    summary: 'create a workflow from a file, or update the workflow with the same name (a new version)',
    options: JSON_OPTION,
    arity: [1, 1],
    async run(ctx) {
      const { workflow, created } = await applyWorkflowFile(ctx, ctx.args[0]!)
      printAnswer(ctx, workflow, () => `${created ? 'created' : 'updated'} workflow ${describeWorkflow(workflow)}`)
      return EXIT.ok
    },
  },
  {
    name: 'workflows list',
    args: '',
    summary: 'list workflows (latest versions)',
    options: { ...PAGE_OPTIONS, ...JSON_OPTION },
    arity: [0, 0],
    async run(ctx) {
      const page = await ctx.client().listWorkflows(pageQuery(ctx.values))
      printPage(ctx, page, ['ID', 'NAME', 'VERSION', 'TASKS', 'UPDATED'], (w) => [
        w.workflow_id,
        w.name,
        String(w.version),
        String(w.tasks.length),
        formatTime(w.updated_at),
      ])
      return EXIT.ok
    },
  },
  {
    name: 'workflows get',
    args: '<workflow_id>',
    summary: 'show a workflow (the latest version, or --version)',
    options: { ...VERSION_OPTION, ...JSON_OPTION },
    arity: [1, 1],
    async run(ctx) {
      const w = await ctx.client().getWorkflow(ctx.args[0]!, versionQuery(ctx.values))
      if (bool(ctx.values, 'json')) {
        ctx.io.stdout.write(`${prettyJson(w)}\n`)
        return EXIT.ok
      }
      const lines = [
        `workflow ${w.workflow_id}`,
        `  name:        ${w.name}`,
        `  version:     ${w.version}`,
        ...(w.description ? [`  description: ${w.description}`] : []),
        `  created:     ${formatTime(w.created_at)}`,
        `  updated:     ${formatTime(w.updated_at)}`,
        ...(isJsonSchemaInput(w.input)
          ? [
              `  input:       a JSON Schema (${Object.keys((w.input.properties as object | undefined) ?? {}).join(', ') || 'no properties'})`,
            ]
          : Object.entries(w.input as Record<string, InputField>).map(([name, f]) => `  input:       ${fieldText(name, f)}`)),
        ...Object.entries(w.output).map(
          ([name, expr]) => `  output:      ${name} = ${typeof expr === 'string' ? expr : JSON.stringify(expr)}`,
        ),
        '',
        ...formatTable(
          ['TASK', 'ACTION', 'DEPENDS ON', 'RETRY', 'WHEN'],
          w.tasks.map((t) => [
            t.id,
            `${t.component}.${t.action}`,
            t.depends_on.join(', ') || '-',
            t.retry === undefined ? '-' : typeof t.retry === 'number' ? String(t.retry) : JSON.stringify(t.retry),
            t.when ?? '',
          ]),
          ctx.style,
          '  ',
        ),
      ]
      ctx.io.stdout.write(`${lines.join('\n')}\n`)
      return EXIT.ok
    },
  },
  {
    name: 'workflows delete',
    args: '<workflow_id>',
    summary: 'delete a workflow (refused while executions of it are unfinished)',
    arity: [1, 1],
    async run(ctx) {
      await ctx.client().deleteWorkflow(ctx.args[0]!)
      ctx.io.stdout.write(`deleted workflow ${ctx.args[0]}\n`)
      return EXIT.ok
    },
  },
]
