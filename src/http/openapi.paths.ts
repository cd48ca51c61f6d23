/** The paths of the OpenAPI document: every route the app serves, its parameters, body and responses (API.md). */
import { EVENT_TYPES } from '../model/events.js'
import { EXECUTION_STATUSES } from '../model/status.js'
import { json, ref } from './openapi.components.js'
import type { RequestBodyName } from './schemas.js'

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } })
const id = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string', format: 'uuid' } })
/** A path parameter that is a name, not a UUID (a component name, a task id). */
const named = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } })
const query = (name: string, schema: Record<string, unknown>) => ({ name, in: 'query', schema })
const limit = query('limit', { type: 'integer', minimum: 1, maximum: 1000, default: 50 })
const offset = query('offset', { type: 'integer', minimum: 0, default: 0 })
const listParams = [limit, offset, query('filter', { type: 'string' })]
/** `?types=a,b` of the event streams (API.md "Event filters"). */
const types = {
  ...query('types', { type: 'string', description: `Comma-separated event names, among: ${EVENT_TYPES.join(', ')}` }),
  description: 'Only these events are sent (seq keeps its numbering, so ids still resume)',
}
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

type Op = { summary: string; body?: RequestBodyName; ok: [number, unknown]; params?: unknown[]; errors?: number[] }
/** A REST operation: its body is the schema component of that name (schemas.ts). */
const op = (tag: string, o: Op) => ({
  tags: [tag],
  summary: o.summary,
  ...(o.params ? { parameters: o.params } : {}),
  ...(o.body ? { requestBody: { required: true, content: json(ref(o.body)) } } : {}),
  responses: {
    [o.ok[0]]: o.ok[1] === null ? { description: 'No content' } : { description: 'OK', content: json(o.ok[1]) },
    ...Object.fromEntries((o.errors ?? [400, 401, 404, 422]).map((s) => [s, problem(`Error ${s}`)])),
  },
})
/** A GET that is not REST (streams, health, docs): its own responses; `open` ones need no token. */
const get = (tag: string, summary: string, responses: Record<number, unknown>, extra: Record<string, unknown> = {}) => ({
  get: { tags: [tag], summary, ...extra, responses },
})
const eventStream = { description: 'text/event-stream of Event', content: { 'text/event-stream': { schema: ref('Event') } } }
const open = { security: [] }

const create = [400, 401, 413, 415, 422]
const list = [401, 422]
const command = [401, 404, 409]
/** A workflow body naming a component only Hermes may know: 503 while Hermes cannot be reached. */
const workflowBody = [...create, 503]
/** A component body: 409 when another source holds the name. */
const componentBody = [400, 401, 409, 413, 415, 422]
/** A component looked up by name: 503 when only Hermes could know it and Hermes cannot be reached. */
const componentLookup = [401, 404, 503]
/** A callback: 401 for a wrong or stale signature, 409 when the task is not waiting for that component. */
const callback = [400, 401, 404, 409, 413, 415, 422]

/** A callback route (API.md "Callbacks"): answers CallbackAnswer. */
const callbackPath = (summary: string, body: RequestBodyName) => ({
  post: op('callbacks', { summary, params: [id('id'), named('task_id')], body, ok: [200, ref('CallbackAnswer')], errors: callback }),
})

/** The REST routes, relative to /api (each is also mounted under /api/v1). */
function apiPaths(): Record<string, Record<string, unknown>> {
  return {
    '/workflows': {
      post: op('workflows', { summary: 'Create a workflow', body: 'WorkflowDefinition', ok: [201, ref('Workflow')], errors: workflowBody }),
      get: op('workflows', { summary: 'List workflows', params: listParams, ok: [200, page('Workflow')], errors: list }),
    },
    '/workflows/{id}/versions': {
      get: op('workflows', {
        summary: 'The versions of a workflow, newest first',
        params: [id('id'), ...listParams.slice(0, 2)],
        ok: [200, page('WorkflowVersion')],
        errors: [401, 403, 404, 422],
      }),
    },
    '/workflows/{id}/schedules': {
      get: op('workflows', {
        summary: "The latest version's cron schedules, with their next 5 run times and last tick",
        params: [id('id')],
        ok: [200, { type: 'array', items: ref('ScheduleInfo') }],
        errors: [401, 403, 404],
      }),
    },
    '/workflows/{id}': {
      get: op('workflows', {
        summary: 'Get a workflow (latest, or ?version=N)',
        params: [id('id'), query('version', { type: 'integer' })],
        ok: [200, ref('Workflow')],
      }),
      put: op('workflows', {
        summary: 'Update a workflow (new version)',
        params: [id('id')],
        body: 'WorkflowDefinition',
        ok: [200, ref('Workflow')],
        errors: [...workflowBody, 404],
      }),
      delete: op('workflows', { summary: 'Delete a workflow', params: [id('id')], ok: [204, null], errors: command }),
    },
    '/executions': {
      post: op('executions', {
        summary: 'Start an execution',
        body: 'StartExecution',
        ok: [201, ref('Execution')],
        errors: [400, 401, 404, 413, 415, 422],
      }),
      get: op('executions', {
        summary: 'List executions',
        params: [
          ...listParams,
          query('status', { type: 'string', enum: [...EXECUTION_STATUSES] }),
          query('workflow_id', { type: 'string', format: 'uuid' }),
        ],
        ok: [200, page('Execution')],
        errors: list,
      }),
    },
    '/executions/{id}': {
      get: op('executions', { summary: 'Get an execution with its task executions', params: [id('id')], ok: [200, ref('Execution')] }),
    },
    '/executions/{id}/cancel': {
      post: op('executions', { summary: 'Cancel', params: [id('id')], ok: [202, ref('Execution')], errors: command }),
    },
    '/executions/{id}/pause': {
      post: op('executions', { summary: 'Pause', params: [id('id')], ok: [202, ref('Execution')], errors: command }),
    },
    '/executions/{id}/resume': {
      post: op('executions', { summary: 'Resume', params: [id('id')], ok: [202, ref('Execution')], errors: command }),
    },
    '/executions/{id}/rerun': {
      post: op('executions', {
        summary: 'A new execution where the named tasks (and their downstream) run again, or what did not complete; input replaces the old',
        params: [id('id')],
        body: 'Rerun',
        ok: [201, ref('Execution')],
        errors: [...command, 400, 413, 415, 422],
      }),
    },
    '/executions/{id}/signals/{name}': {
      post: op('executions', {
        summary: 'Send a signal (an approval): taken by a waiting wait_for_signal task, else kept for the next wait',
        params: [id('id'), named('name')],
        body: 'SendSignal',
        ok: [202, ref('SignalAnswer')],
        errors: [400, 401, 403, 404, 409, 413, 415, 422],
      }),
    },
    '/executions/{id}/signals': {
      get: op('executions', {
        summary: 'One entry per signal name waited for or sent, with the payloads received',
        params: [id('id')],
        ok: [200, { type: 'array', items: ref('SignalSummary') }],
        errors: [401, 403, 404],
      }),
    },
    '/audit': {
      get: op('audit', {
        summary: 'The audit trail of state-changing requests, newest first (admin)',
        params: [
          ...listParams.slice(0, 2),
          { name: 'target_id', in: 'query', schema: { type: 'string' } },
          { name: 'actor', in: 'query', schema: { type: 'string' } },
        ],
        ok: [200, page('AuditRecord')],
        errors: [401, 403, 422],
      }),
    },
    '/nodes': {
      get: op('nodes', {
        summary: 'The Harmonia nodes sharing the database (seen within two leases), with the executions each holds',
        ok: [200, { type: 'array', items: ref('Node') }],
        errors: [401, 403],
      }),
    },
    '/subscriptions': {
      post: op('subscriptions', {
        summary: 'Subscribe a URL to events (webhooks): each matching event is POSTed, signed, in seq order per execution',
        body: 'CreateSubscription',
        ok: [201, ref('Subscription')],
        errors: [400, 401, 403, 413, 415, 422],
      }),
      get: op('subscriptions', {
        summary: 'List event subscriptions, oldest first',
        params: [limit, offset],
        ok: [200, page('Subscription')],
        errors: list,
      }),
    },
    '/subscriptions/{id}': {
      get: op('subscriptions', {
        summary: 'Get a subscription with its delivery health (last_error, failing_since, disabled_at)',
        params: [id('id')],
        ok: [200, ref('Subscription')],
        errors: [401, 404],
      }),
      delete: op('subscriptions', {
        summary: 'Delete a subscription: nothing more is sent',
        params: [id('id')],
        ok: [204, null],
        errors: [401, 403, 404],
      }),
    },
    '/executions/{id}/history': {
      get: op('executions', { summary: 'Events, checkpoints and metrics', params: [id('id')], ok: [200, ref('ExecutionHistory')] }),
    },
    '/executions/{id}/tasks/{task_id}/complete': callbackPath(
      'A component completes the task attempt it answered 202 for (signed, or with a bearer token)',
      'CompleteTask',
    ),
    '/executions/{id}/tasks/{task_id}/fail': callbackPath(
      'A component fails the task attempt it answered 202 for (retried per the task policy unless retryable is false)',
      'FailTask',
    ),
    '/components': {
      post: op('components', {
        summary: 'Register a remote component',
        body: 'CreateComponent',
        ok: [201, ref('Component')],
        errors: componentBody,
      }),
      get: op('components', {
        summary: 'List the components of every source, built-ins included',
        ok: [200, { type: 'array', items: ref('Component') }],
        errors: [401],
      }),
    },
    '/components/{name}': {
      get: op('components', {
        summary: 'Get a component (asking Hermes for a name no other source knows)',
        params: [named('name')],
        ok: [200, ref('Component')],
        errors: componentLookup,
      }),
      put: op('components', {
        summary: 'Replace (or create) a component registered through the API',
        params: [named('name')],
        body: 'ReplaceComponent',
        ok: [200, ref('Component')],
        errors: componentBody,
      }),
      delete: op('components', {
        summary: 'Delete a component registered through the API (built-ins and config entries: 409)',
        params: [named('name')],
        ok: [204, null],
        errors: command,
      }),
    },
    '/components/{name}/health': {
      get: op('components', {
        summary: 'Probe GET {url}/health of a component (healthy or not, always 200)',
        params: [named('name')],
        ok: [200, ref('ComponentHealth')],
        errors: componentLookup,
      }),
    },
    '/templates': {
      post: op('templates', { summary: 'Create a template', body: 'CreateTemplate', ok: [201, ref('Template')], errors: create }),
      get: op('templates', { summary: 'List templates', params: listParams, ok: [200, page('Template')], errors: list }),
    },
    '/templates/{id}': {
      get: op('templates', {
        summary: 'Get a template (latest, or ?version=N)',
        params: [id('id'), query('version', { type: 'integer' })],
        ok: [200, ref('Template')],
      }),
      put: op('templates', {
        summary: 'A new template version (version + 1); fields left out keep their values',
        params: [id('id')],
        body: 'CreateTemplate',
        ok: [200, ref('Template')],
        errors: [400, 401, 403, 404, 413, 415, 422],
      }),
      delete: op('templates', {
        summary: 'Delete a template and its versions',
        params: [id('id')],
        ok: [204, null],
        errors: [401, 403, 404],
      }),
    },
    '/templates/{id}/instantiate': {
      post: op('templates', {
        summary: 'Instantiate a template into a new workflow',
        params: [id('id')],
        body: 'InstantiateTemplate',
        ok: [201, ref('Workflow')],
      }),
    },
    '/state/{execution_id}': {
      get: op('state', { summary: 'Load the state', params: [id('execution_id')], ok: [200, ref('State')] }),
      put: op('state', { summary: 'Save the state', params: [id('execution_id')], body: 'SaveState', ok: [200, ref('State')] }),
    },
    '/checkpoints': {
      post: op('checkpoints', { summary: 'Create a checkpoint', body: 'CreateCheckpoint', ok: [201, ref('Checkpoint')] }),
      get: op('checkpoints', {
        summary: 'List checkpoints',
        params: [limit, offset, query('execution_id', { type: 'string', format: 'uuid' })],
        ok: [200, page('Checkpoint')],
        errors: list,
      }),
    },
    '/checkpoints/{id}': { get: op('checkpoints', { summary: 'Get a checkpoint', params: [id('id')], ok: [200, ref('Checkpoint')] }) },
    '/checkpoints/{id}/restore': {
      post: op('checkpoints', { summary: 'Restore into a new execution', params: [id('id')], ok: [201, ref('Execution')] }),
    },
  }
}

/** Every path of the app: the REST routes under /api and /api/v1 (API.md "Conventions"), streams, health and docs. */
export function documentPaths(): Record<string, Record<string, unknown>> {
  const rest = Object.entries(apiPaths())
  return {
    ...Object.fromEntries(rest.map(([path, item]) => [`/api${path}`, item])),
    '/events/executions': get(
      'events',
      'Server-sent events of every execution, live, for dashboards (no replay; the stream does not end)',
      { 200: eventStream, 401: problem('Unauthorized'), 422: problem('Unknown event type or malformed workflow_id') },
      { parameters: [query('workflow_id', { type: 'string', format: 'uuid' }), types] },
    ),
    '/events/executions/{id}': get(
      'events',
      'Server-sent events of an execution (replay after Last-Event-ID or ?after=N, then live; ends after the terminal event)',
      { 200: eventStream, 401: problem('Unauthorized'), 404: problem('Unknown execution'), 422: problem('Unknown event type') },
      {
        parameters: [
          id('id'),
          query('after', { type: 'integer' }),
          types,
          { name: 'Last-Event-ID', in: 'header', schema: { type: 'string' } },
        ],
      },
    ),
    '/ws/executions/{id}': get(
      'events',
      'WebSocket of an execution: Event JSON text frames, closed with 1000 after the terminal event',
      {
        101: { description: 'Switching protocols' },
        401: problem('Unauthorized'),
        404: problem('Unknown execution'),
        422: problem('Unknown event type'),
      },
      { parameters: [id('id'), query('after', { type: 'integer' }), types] },
    ),
    '/health': get('health', 'Health', { 200: { description: 'OK', content: json({ type: 'object' }) } }, open),
    '/ready': get(
      'health',
      'Readiness',
      {
        200: { description: 'Ready', content: json({ type: 'object' }) },
        503: problem('Not ready: the database cannot be reached (with `ready: false`, and Retry-After)'),
      },
      open,
    ),
    '/metrics': get('health', 'Prometheus metrics of this node (text exposition format; open when HARMONIA_METRICS_PUBLIC=1)', {
      200: { description: 'OK', content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } } },
      401: problem('Unauthorized'),
    }),
    '/openapi.json': get('docs', 'This OpenAPI 3.1 document', {
      200: { description: 'OK', content: json({ type: 'object' }) },
      401: problem('Unauthorized'),
    }),
    '/docs': get('docs', 'The API reference as a page', {
      200: { description: 'OK', content: { 'text/html': { schema: { type: 'string' } } } },
      401: problem('Unauthorized'),
    }),
    ...Object.fromEntries(rest.map(([path, item]) => [`/api/v1${path}`, item])),
  }
}
