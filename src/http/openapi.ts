import { toJsonSchema } from '@valibot/to-json-schema'
import type { GenericSchema } from 'valibot'
import { EVENT_TYPES } from '../model/events.js'
import { EXECUTION_STATUSES, TASK_STATUSES } from '../model/status.js'
import { InstantiateBodySchema, TemplateBodySchema } from '../model/template.js'
import { WorkflowDefinitionSchema } from '../model/workflow.schema.js'

/** JSON Schema of a valibot schema (transforms documented by their output, as hono-openapi does). */
const schema = (s: GenericSchema) => {
  const { $schema: _, ...rest } = toJsonSchema(s, { errorMode: 'ignore' }) as Record<string, unknown>
  return rest
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const json = (s: unknown) => ({ 'application/json': { schema: s } })
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } })
const id = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string', format: 'uuid' } })
const listParams = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } },
  { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
  { name: 'filter', in: 'query', schema: { type: 'string' } },
]
const page = (item: string) => ({
  type: 'object',
  required: ['items', 'total', 'limit', 'offset'],
  properties: {
    items: { type: 'array', items: ref(item) },
    total: { type: 'integer' },
    limit: { type: 'integer' },
    offset: { type: 'integer' },
  },
})

type Op = { summary: string; body?: unknown; ok: [number, unknown]; params?: unknown[]; errors?: number[] }
const op = (tag: string, o: Op) => ({
  tags: [tag],
  summary: o.summary,
  ...(o.params ? { parameters: o.params } : {}),
  ...(o.body ? { requestBody: { required: true, content: json(o.body) } } : {}),
  responses: {
    [o.ok[0]]: o.ok[1] === null ? { description: 'No content' } : { description: 'OK', content: json(o.ok[1]) },
    ...Object.fromEntries((o.errors ?? [400, 401, 404, 422]).map((s) => [s, problemResponse(`Error ${s}`)])),
  },
})

/** The OpenAPI 3.1 document of every route (bodies from the valibot schemas). */
export function openApiDocument(version: string) {
  const paths: Record<string, Record<string, unknown>> = {
    '/api/workflows': {
      post: op('workflows', {
        summary: 'Create a workflow',
        body: ref('WorkflowDefinition'),
        ok: [201, ref('Workflow')],
        errors: [400, 401, 413, 415, 422],
      }),
      get: op('workflows', { summary: 'List workflows', params: listParams, ok: [200, page('Workflow')], errors: [401, 422] }),
    },
    '/api/workflows/{id}': {
      get: op('workflows', {
        summary: 'Get a workflow (latest, or ?version=N)',
        params: [id('id'), { name: 'version', in: 'query', schema: { type: 'integer' } }],
        ok: [200, ref('Workflow')],
      }),
      put: op('workflows', {
        summary: 'Update a workflow (new version)',
        params: [id('id')],
        body: ref('WorkflowDefinition'),
        ok: [200, ref('Workflow')],
      }),
      delete: op('workflows', { summary: 'Delete a workflow', params: [id('id')], ok: [204, null], errors: [401, 404, 409] }),
    },
    '/api/executions': {
      post: op('executions', {
        summary: 'Start an execution',
        body: ref('StartExecution'),
        ok: [201, ref('Execution')],
        errors: [400, 401, 404, 413, 415, 422],
      }),
      get: op('executions', {
        summary: 'List executions',
        params: [
          ...listParams,
          { name: 'status', in: 'query', schema: { type: 'string', enum: [...EXECUTION_STATUSES] } },
          { name: 'workflow_id', in: 'query', schema: { type: 'string', format: 'uuid' } },
        ],
        ok: [200, page('Execution')],
        errors: [401, 422],
      }),
    },
    '/api/executions/{id}': {
      get: op('executions', { summary: 'Get an execution with its task executions', params: [id('id')], ok: [200, ref('Execution')] }),
    },
    '/api/executions/{id}/cancel': {
      post: op('executions', { summary: 'Cancel', params: [id('id')], ok: [202, ref('Execution')], errors: [401, 404, 409] }),
    },
    '/api/executions/{id}/pause': {
      post: op('executions', { summary: 'Pause', params: [id('id')], ok: [202, ref('Execution')], errors: [401, 404, 409] }),
    },
    '/api/executions/{id}/resume': {
      post: op('executions', { summary: 'Resume', params: [id('id')], ok: [202, ref('Execution')], errors: [401, 404, 409] }),
    },
    '/api/executions/{id}/rerun': {
      post: op('executions', {
        summary: 'Rerun the failed and skipped tasks of a failed execution',
        params: [id('id')],
        ok: [201, ref('Execution')],
        errors: [401, 404, 409],
      }),
    },
    '/api/executions/{id}/history': {
      get: op('executions', { summary: 'Events, checkpoints and metrics', params: [id('id')], ok: [200, ref('ExecutionHistory')] }),
    },
    '/api/templates': {
      post: op('templates', {
        summary: 'Create a template',
        body: schema(TemplateBodySchema),
        ok: [201, ref('Template')],
        errors: [400, 401, 413, 415, 422],
      }),
      get: op('templates', { summary: 'List templates', params: listParams, ok: [200, page('Template')], errors: [401, 422] }),
    },
    '/api/templates/{id}': { get: op('templates', { summary: 'Get a template', params: [id('id')], ok: [200, ref('Template')] }) },
    '/api/templates/{id}/instantiate': {
      post: op('templates', {
        summary: 'Instantiate a template into a new workflow',
        params: [id('id')],
        body: schema(InstantiateBodySchema),
        ok: [201, ref('Workflow')],
      }),
    },
    '/api/state/{execution_id}': {
      get: op('state', { summary: 'Load the state', params: [id('execution_id')], ok: [200, ref('State')] }),
      put: op('state', {
        summary: 'Save the state',
        params: [id('execution_id')],
        body: { type: 'object', required: ['state'], properties: { state: { type: 'object' } } },
        ok: [200, ref('State')],
      }),
    },
    '/api/checkpoints': {
      post: op('checkpoints', {
        summary: 'Create a checkpoint',
        body: { type: 'object', required: ['execution_id'], properties: { execution_id: { type: 'string', format: 'uuid' } } },
        ok: [201, ref('Checkpoint')],
      }),
      get: op('checkpoints', {
        summary: 'List checkpoints',
        params: [...listParams.slice(0, 2), { name: 'execution_id', in: 'query', schema: { type: 'string', format: 'uuid' } }],
        ok: [200, page('Checkpoint')],
        errors: [401, 422],
      }),
    },
    '/api/checkpoints/{id}': { get: op('checkpoints', { summary: 'Get a checkpoint', params: [id('id')], ok: [200, ref('Checkpoint')] }) },
    '/api/checkpoints/{id}/restore': {
      post: op('checkpoints', { summary: 'Restore into a new execution', params: [id('id')], ok: [201, ref('Execution')] }),
    },
    '/events/executions': {
      get: {
        tags: ['events'],
        summary: 'Server-sent events of every execution, live, for dashboards (no replay; the stream does not end)',
        responses: {
          200: { description: 'text/event-stream of Event', content: { 'text/event-stream': { schema: ref('Event') } } },
          401: problemResponse('Unauthorized'),
        },
      },
    },
    '/events/executions/{id}': {
      get: {
        tags: ['events'],
        summary: 'Server-sent events of an execution (replay after Last-Event-ID or ?after=N, then live; ends after the terminal event)',
        parameters: [
          id('id'),
          { name: 'after', in: 'query', schema: { type: 'integer' } },
          { name: 'Last-Event-ID', in: 'header', schema: { type: 'string' } },
        ],
        responses: {
          200: { description: 'text/event-stream of Event', content: { 'text/event-stream': { schema: ref('Event') } } },
          401: problemResponse('Unauthorized'),
          404: problemResponse('Unknown execution'),
        },
      },
    },
    '/ws/executions/{id}': {
      get: {
        tags: ['events'],
        summary: 'WebSocket of an execution: Event JSON text frames, closed with 1000 after the terminal event',
        parameters: [id('id'), { name: 'after', in: 'query', schema: { type: 'integer' } }],
        responses: {
          101: { description: 'Switching protocols' },
          401: problemResponse('Unauthorized'),
          404: problemResponse('Unknown execution'),
        },
      },
    },
    '/health': {
      get: {
        tags: ['health'],
        summary: 'Health',
        security: [],
        responses: { 200: { description: 'OK', content: json({ type: 'object' }) } },
      },
    },
    '/ready': {
      get: {
        tags: ['health'],
        summary: 'Readiness',
        security: [],
        responses: { 200: { description: 'Ready', content: json({ type: 'object' }) }, 503: { description: 'Not ready' } },
      },
    },
    '/openapi.json': {
      get: {
        tags: ['docs'],
        summary: 'This OpenAPI 3.1 document',
        responses: { 200: { description: 'OK', content: json({ type: 'object' }) }, 401: problemResponse('Unauthorized') },
      },
    },
    '/docs': {
      get: {
        tags: ['docs'],
        summary: 'The API reference as a page',
        responses: {
          200: { description: 'OK', content: { 'text/html': { schema: { type: 'string' } } } },
          401: problemResponse('Unauthorized'),
        },
      },
    },
  }
  // Every /api route is also mounted under /api/v1 (API.md "Conventions").
  for (const [path, item] of Object.entries(paths)) {
    if (path.startsWith('/api/')) paths[`/api/v1/${path.slice('/api/'.length)}`] = item
  }
  const error = {
    type: ['object', 'null'],
    properties: { message: { type: 'string' }, code: { type: 'string' }, retryable: { type: 'boolean' } },
  }
  const time = { type: ['string', 'null'], format: 'date-time' }
  return {
    openapi: '3.1.0',
    info: { title: 'Harmonia', version, description: 'Durable workflow orchestration (Tekton). Errors are RFC 9457 problem+json.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        WorkflowDefinition: schema(WorkflowDefinitionSchema),
        StartExecution: {
          type: 'object',
          required: ['workflow_id'],
          properties: {
            workflow_id: { type: 'string', format: 'uuid' },
            input: { type: 'object' },
            version: { type: 'integer', minimum: 1 },
            metadata: { type: 'object' },
          },
        },
        Workflow: {
          type: 'object',
          required: ['workflow_id', 'name', 'version', 'tasks', 'created_at', 'updated_at'],
          properties: {
            workflow_id: { type: 'string', format: 'uuid' },
            name: { type: 'string' },
            description: { type: 'string' },
            version: { type: 'integer' },
            metadata: { type: 'object' },
            input: { type: 'object' },
            output: { type: 'object' },
            tasks: { type: 'array', items: { type: 'object' } },
            max_concurrency: { type: 'integer' },
            timeout: { type: ['number', 'null'] },
            fail_fast: { type: 'boolean' },
            created_at: { type: 'string', format: 'date-time' },
            updated_at: { type: 'string', format: 'date-time' },
          },
        },
        TaskExecution: {
          type: 'object',
          properties: {
            task_id: { type: 'string' },
            status: { type: 'string', enum: [...TASK_STATUSES] },
            start_time: time,
            end_time: time,
            input: {},
            output: {},
            error,
            retries: { type: 'integer' },
            attempts: { type: 'integer' },
          },
        },
        Execution: {
          type: 'object',
          required: ['execution_id', 'workflow_id', 'status'],
          properties: {
            execution_id: { type: 'string', format: 'uuid' },
            workflow_id: { type: 'string', format: 'uuid' },
            workflow_version: { type: 'integer' },
            status: { type: 'string', enum: [...EXECUTION_STATUSES] },
            start_time: time,
            end_time: time,
            input: { type: 'object' },
            output: {},
            error,
            metadata: { type: 'object' },
            restored_from: { type: ['string', 'null'], format: 'uuid' },
            task_executions: { type: 'object', additionalProperties: ref('TaskExecution') },
          },
        },
        Event: {
          type: 'object',
          required: ['seq', 'type', 'execution_id', 'timestamp', 'data'],
          properties: {
            seq: { type: 'integer' },
            type: { type: 'string', enum: [...EVENT_TYPES] },
            execution_id: { type: 'string', format: 'uuid' },
            task_id: { type: 'string' },
            timestamp: { type: 'string', format: 'date-time' },
            data: { type: 'object' },
          },
        },
        ExecutionHistory: {
          type: 'object',
          properties: {
            execution_id: { type: 'string' },
            events: { type: 'array', items: ref('Event') },
            checkpoints: { type: 'array', items: ref('Checkpoint') },
            metrics: { type: 'object' },
          },
        },
        Template: {
          type: 'object',
          properties: {
            template_id: { type: 'string', format: 'uuid' },
            name: { type: 'string' },
            description: { type: 'string' },
            workflow_definition_id: { type: 'string', format: 'uuid' },
            parameters: { type: 'object' },
            version: { type: 'integer' },
            created_at: { type: 'string', format: 'date-time' },
          },
        },
        State: {
          type: 'object',
          properties: { execution_id: { type: 'string' }, state: { type: 'object' }, updated_at: { type: 'string', format: 'date-time' } },
        },
        Checkpoint: {
          type: 'object',
          properties: {
            checkpoint_id: { type: 'string', format: 'uuid' },
            execution_id: { type: 'string', format: 'uuid' },
            created_at: { type: 'string', format: 'date-time' },
            workflow_status: { type: 'string', enum: [...EXECUTION_STATUSES] },
            task_statuses: { type: 'object' },
            completed_tasks: { type: 'array', items: { type: 'string' } },
            state_data: { type: 'object' },
          },
        },
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
      },
    },
  }
}

const escape = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!)

/** A readable API reference rendered on the server: no scripts, nothing loaded from elsewhere. */
export function docsPage(): string {
  const doc = openApiDocument('')
  const rows = Object.entries(doc.paths)
    .filter(([path]) => !path.startsWith('/api/v1/'))
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, o]) => {
        const summary = (o as { summary?: string }).summary ?? ''
        return `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escape(path)}</code></td><td>${escape(summary)}</td></tr>`
      }),
    )
    .join('\n')
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Harmonia API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}td{padding:.3rem .8rem;border-bottom:1px solid #ddd}code{font-size:13px}</style>
</head><body><h1>Harmonia API</h1><p>Every route is also mounted under <code>/api/v1</code>. Errors are RFC 9457 <code>application/problem+json</code>.
The machine-readable spec is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<table><thead><tr><th>Method</th><th>Path</th><th>What it does</th></tr></thead><tbody>
${rows}
</tbody></table></body></html>`
}
