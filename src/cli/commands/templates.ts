import type { Template, TemplateRequest } from '../../client/index.js'
import {
  bool,
  JSON_OPTION,
  list,
  PAGE_OPTIONS,
  pageQuery,
  printAnswer,
  printPage,
  str,
  VERSION_OPTION,
  versionQuery,
  type Command,
} from '../command.js'
import { loadObject, parseInputPairs } from '../documents.js'
import { fieldText, formatTime } from '../format.js'
import { EXIT } from '../io.js'

/** `harmonia templates …` (API.md "Templates"): workflows with `${params.<name>}` placeholders, instantiated with values. */

const describeTemplate = (t: Template) => `${t.template_id} (${t.name} v${t.version})`

export const templateCommands: Command[] = [
  {
    name: 'templates create',
    args: '<file.yaml|file.json>',
    summary: 'create a template from a file (name, workflow_definition_id, parameters, description)',
    options: JSON_OPTION,
    arity: [1, 1],
    async run(ctx) {
      const body = (await loadObject(ctx.args[0]!, ctx.io.cwd, 'a template')) as TemplateRequest
      const template = await ctx.client().createTemplate(body)
      printAnswer(ctx, template, () => `created template ${describeTemplate(template)}`)
      return EXIT.ok
    },
  },
  {
    name: 'templates list',
    args: '',
    summary: 'list templates (latest versions)',
    options: { ...PAGE_OPTIONS, ...JSON_OPTION },
    arity: [0, 0],
    async run(ctx) {
      const page = await ctx.client().listTemplates(pageQuery(ctx.values))
      printPage(ctx, page, ['ID', 'NAME', 'VERSION', 'WORKFLOW', 'PARAMETERS', 'CREATED'], (t) => [
        t.template_id,
        t.name,
        String(t.version),
        `${t.workflow_definition_id} v${t.workflow_version}`,
        Object.keys(t.parameters).join(', ') || '-',
        formatTime(t.created_at),
      ])
      return EXIT.ok
    },
  },
  {
    name: 'templates get',
    args: '<template_id>',
    summary: 'show a template (the latest version, or --version)',
    options: { ...VERSION_OPTION, ...JSON_OPTION },
    arity: [1, 1],
    async run(ctx) {
      const t = await ctx.client().getTemplate(ctx.args[0]!, versionQuery(ctx.values))
      printAnswer(ctx, t, () => [
        `template ${t.template_id}`,
        `  name:        ${t.name}`,
        `  version:     ${t.version}`,
        ...(t.description ? [`  description: ${t.description}`] : []),
        `  workflow:    ${t.workflow_definition_id} v${t.workflow_version}`,
        `  created:     ${formatTime(t.created_at)}`,
        ...Object.entries(t.parameters).map(
          ([name, f]) => `  parameter:   ${fieldText(name, f)}${f.description ? ` — ${f.description}` : ''}`,
        ),
      ])
      return EXIT.ok
    },
  },
  {
    name: 'templates instantiate',
    args: '<template_id>',
    summary: 'create a workflow from a template with parameter values; prints the new workflow id',
    details:
      'Parameter values: --params is read first, then each --param name=value on top; a value that parses as JSON is ' +
      'taken as JSON (n=3, ok=true), anything else as a string. The server applies defaults and checks types (422).',
    options: {
      param: { type: 'string', multiple: true, value: '<name=value>', help: 'a parameter value (repeatable)' },
      params: { type: 'string', value: '<file>', help: 'parameter values from a JSON or YAML object' },
      name: { type: 'string', value: '<name>', help: "the new workflow's name (default: the template's workflow name)" },
      version: { type: 'string', value: '<n>', help: 'instantiate this template version instead of the latest' },
      json: { type: 'boolean', help: 'print the created workflow as JSON' },
    },
    arity: [1, 1],
    async run(ctx) {
      const file = str(ctx.values, 'params')
      const values = {
        ...(file ? await loadObject(file, ctx.io.cwd, 'the parameter values') : {}),
        ...parseInputPairs(list(ctx.values, 'param'), 'param'),
      }
      const name = str(ctx.values, 'name')
      const workflow = await ctx.client().instantiateTemplate(ctx.args[0]!, {
        parameter_values: values,
        ...(name !== undefined ? { name } : {}),
        ...versionQuery(ctx.values),
      })
      if (!bool(ctx.values, 'json'))
        ctx.io.stderr.write(
          `created workflow ${workflow.workflow_id} (${workflow.name} v${workflow.version}) from template ${ctx.args[0]}\n`,
        )
      printAnswer(ctx, workflow, () => workflow.workflow_id)
      return EXIT.ok
    },
  },
]
