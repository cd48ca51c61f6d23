/**
 * The MCP tools (API.md Part 2 "MCP"): each is one request of the HTTP API, its input schema built from the valibot
 * schemas the routes parse with (http/schemas.ts), so a tool accepts what its route accepts and no body shape is
 * written twice. The route stays the authority: it validates again and enforces the caller's role.
 */
import * as v from 'valibot'
import { EXECUTION_STATUSES } from '../model/status.js'
import { REQUEST_BODIES } from '../http/schemas.js'
import { seg as segment, type Query } from '../client/transport.js'

/** The request a tool makes of the API. */
export type ToolRequest = { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string; query?: Query; body?: unknown }

export type McpTool = {
  name: string
  description: string
  /** A valibot object schema of the arguments. */
  input: v.ObjectSchema<v.ObjectEntries, v.ErrorMessage<v.ObjectIssue> | undefined>
  request(args: Record<string, unknown>): ToolRequest
}

const id = (name: string) => v.pipe(v.string(`${name} must be a string`), v.uuid(`${name} must be a UUID`))
const version = v.optional(v.pipe(v.number('version must be a number'), v.integer('version must be an integer'), v.minValue(1)))
const page = {
  limit: v.optional(v.pipe(v.number('limit must be a number'), v.integer(), v.minValue(1), v.maxValue(1000))),
  offset: v.optional(v.pipe(v.number('offset must be a number'), v.integer(), v.minValue(0))),
  filter: v.optional(v.string('filter must be a string')),
}
/** A path segment from an argument the schema has checked is a string. */
const seg = (value: unknown) => segment(value as string)

/** The arguments without the ones that went into the path. */
function rest(args: Record<string, unknown>, ...taken: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).filter(([key]) => !taken.includes(key)))
}

const pageQuery = (args: Record<string, unknown>): Query => ({
  limit: args.limit as number | undefined,
  offset: args.offset as number | undefined,
  filter: args.filter as string | undefined,
})

/** A tool acting on one execution (`POST /api/executions/{id}/<verb>`). */
const executionAction = (name: string, verb: string, description: string): McpTool => ({
  name,
  description,
  input: v.object({ execution_id: id('execution_id') }),
  request: (args) => ({ method: 'POST', path: `/api/executions/${seg(args.execution_id)}/${verb}` }),
})

export const TOOLS: readonly McpTool[] = [
  {
    name: 'create_workflow',
    description:
      'Create a workflow definition: a DAG of tasks, each calling an action of a component (list_components names them). ' +
      'Tasks refer to the input as ${input.x} and to earlier results as ${tasks.<id>.output.<field>}. Returns the workflow with its workflow_id.',
    input: REQUEST_BODIES.WorkflowDefinition,
    request: (args) => ({ method: 'POST', path: '/api/workflows', body: args }),
  },
  {
    name: 'get_workflow',
    description: 'Get a workflow definition (the latest version, or the given version).',
    input: v.object({ workflow_id: id('workflow_id'), version }),
    request: (args) => ({ method: 'GET', path: `/api/workflows/${seg(args.workflow_id)}`, query: { version: args.version as number } }),
  },
  {
    name: 'list_workflows',
    description: 'List workflow definitions (latest versions), optionally filtered by a substring of the name.',
    input: v.object(page),
    request: (args) => ({ method: 'GET', path: '/api/workflows', query: pageQuery(args) }),
  },
  {
    name: 'update_workflow',
    description: 'Replace a workflow definition with a new one; this makes a new version (running executions keep theirs).',
    input: v.object({ workflow_id: id('workflow_id'), definition: REQUEST_BODIES.WorkflowDefinition }),
    request: (args) => ({ method: 'PUT', path: `/api/workflows/${seg(args.workflow_id)}`, body: args.definition }),
  },
  {
    name: 'delete_workflow',
    description: 'Delete a workflow definition (refused while executions of it are unfinished).',
    input: v.object({ workflow_id: id('workflow_id') }),
    request: (args) => ({ method: 'DELETE', path: `/api/workflows/${seg(args.workflow_id)}` }),
  },
  {
    name: 'execute_workflow',
    description:
      'Start an execution of a workflow with an input. Returns the execution (status pending or running); poll get_workflow_status.',
    input: REQUEST_BODIES.StartExecution,
    request: (args) => ({ method: 'POST', path: '/api/executions', body: args }),
  },
  {
    name: 'get_workflow_status',
    description: "Get an execution: its status, each task's status, output and error, and the workflow's output once completed.",
    input: v.object({ execution_id: id('execution_id') }),
    request: (args) => ({ method: 'GET', path: `/api/executions/${seg(args.execution_id)}` }),
  },
  {
    name: 'list_executions',
    description: 'List executions, newest first, optionally only those of a status or of a workflow.',
    input: v.object({
      status: v.optional(v.picklist(EXECUTION_STATUSES, `status must be one of ${EXECUTION_STATUSES.join(', ')}`)),
      workflow_id: v.optional(id('workflow_id')),
      ...page,
    }),
    request: (args) => ({
      method: 'GET',
      path: '/api/executions',
      query: { ...pageQuery(args), status: args.status as string, workflow_id: args.workflow_id as string },
    }),
  },
  executionAction('pause_workflow', 'pause', 'Pause an execution: running tasks finish, no new task starts until resume_workflow.'),
  executionAction('resume_workflow', 'resume', 'Resume a paused execution.'),
  executionAction('cancel_workflow', 'cancel', 'Cancel an execution: running tasks are stopped and nothing more runs.'),
  {
    name: 'rerun_execution',
    description:
      'Start a new execution from a finished one: the given tasks (and what depends on them) run again, the rest keep their results; ' +
      'without tasks, what did not complete runs again.',
    input: v.object({ execution_id: id('execution_id'), ...REQUEST_BODIES.Rerun.entries }),
    request: (args) => ({ method: 'POST', path: `/api/executions/${seg(args.execution_id)}/rerun`, body: rest(args, 'execution_id') }),
  },
  {
    name: 'send_signal',
    description:
      'Send a named signal to an execution; a task waiting for it (a wait_for_signal task) completes with the payload as its output.',
    input: v.object({
      execution_id: id('execution_id'),
      name: v.pipe(v.string('name must be a string'), v.nonEmpty()),
      ...REQUEST_BODIES.SendSignal.entries,
    }),
    request: (args) => ({
      method: 'POST',
      path: `/api/executions/${seg(args.execution_id)}/signals/${seg(args.name)}`,
      body: rest(args, 'execution_id', 'name'),
    }),
  },
  {
    name: 'get_execution_history',
    description: "An execution's event history: every status change of it and of its tasks, in order.",
    input: v.object({ execution_id: id('execution_id') }),
    request: (args) => ({ method: 'GET', path: `/api/executions/${seg(args.execution_id)}/history` }),
  },
  {
    name: 'create_template',
    description: 'Create a template from a workflow: ${params.<name>} placeholders in it are filled by instantiate_template.',
    input: REQUEST_BODIES.CreateTemplate,
    request: (args) => ({ method: 'POST', path: '/api/templates', body: args }),
  },
  {
    name: 'list_templates',
    description: 'List templates with their parameters.',
    input: v.object(page),
    request: (args) => ({ method: 'GET', path: '/api/templates', query: pageQuery(args) }),
  },
  {
    name: 'instantiate_template',
    description: 'Make a new workflow from a template with parameter values. Returns the workflow; run it with execute_workflow.',
    input: v.object({ template_id: id('template_id'), ...REQUEST_BODIES.InstantiateTemplate.entries }),
    request: (args) => ({ method: 'POST', path: `/api/templates/${seg(args.template_id)}/instantiate`, body: rest(args, 'template_id') }),
  },
  {
    name: 'get_template',
    description: 'Get a template (the latest version, or the given version) with its parameters and their types.',
    input: v.object({ template_id: id('template_id'), version }),
    request: (args) => ({ method: 'GET', path: `/api/templates/${seg(args.template_id)}`, query: { version: args.version as number } }),
  },
  {
    name: 'create_checkpoint',
    description: "Checkpoint an execution: its tasks' statuses, completed outputs and state, to restore later.",
    input: REQUEST_BODIES.CreateCheckpoint,
    request: (args) => ({ method: 'POST', path: '/api/checkpoints', body: args }),
  },
  {
    name: 'list_checkpoints',
    description: 'List checkpoints, of every execution or of one.',
    input: v.object({ execution_id: v.optional(id('execution_id')), limit: page.limit, offset: page.offset }),
    request: (args) => ({
      method: 'GET',
      path: '/api/checkpoints',
      query: { execution_id: args.execution_id as string, limit: args.limit as number, offset: args.offset as number },
    }),
  },
  {
    name: 'restore_from_checkpoint',
    description: 'Start a new execution from a checkpoint: completed tasks keep their outputs, the rest run.',
    input: v.object({ checkpoint_id: id('checkpoint_id') }),
    request: (args) => ({ method: 'POST', path: `/api/checkpoints/${seg(args.checkpoint_id)}/restore` }),
  },
  {
    name: 'list_components',
    description: 'List the components tasks can call (built-in, embedded and remote), with their actions.',
    input: v.object({}),
    request: () => ({ method: 'GET', path: '/api/components' }),
  },
]
