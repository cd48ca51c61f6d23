/**
 * The schema components of the OpenAPI document: request bodies converted from the valibot schemas the routes parse
 * with (schemas.ts), and the response shapes of API.md.
 */
import { COMPONENT_SOURCES } from '../model/components.js'
import { EVENT_TYPES } from '../model/events.js'
import { CATCH_UP_POLICIES } from '../model/schedule.js'
import { EXECUTION_STATUSES, TASK_STATUSES } from '../model/status.js'
import { jsonSchemaOf } from './json-schema.js'
import { REQUEST_BODIES } from './schemas.js'

/** A `$ref` to a schema component. */
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
/** A JSON content map. */
export const json = (schema: unknown) => ({ 'application/json': { schema } })

const uuid = { type: 'string', format: 'uuid' }
const dateTime = { type: 'string', format: 'date-time' }
const time = { type: ['string', 'null'], format: 'date-time' }
const error = {
  type: ['object', 'null'],
  properties: { message: { type: 'string' }, code: { type: 'string' }, retryable: { type: 'boolean' } },
}

/** Every schema component: request bodies, resources, events and the problem. */
export function componentSchemas(): Record<string, unknown> {
  return {
    ...Object.fromEntries(Object.entries(REQUEST_BODIES).map(([name, schema]) => [name, jsonSchemaOf(schema)])),
    Workflow: {
      type: 'object',
      required: ['workflow_id', 'name', 'version', 'tasks', 'created_at', 'updated_at'],
      properties: {
        workflow_id: uuid,
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
        schedules: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              cron: { type: 'string' },
              timezone: { type: 'string' },
              input: { type: 'object' },
              catch_up: { type: 'string', enum: [...CATCH_UP_POLICIES] },
              enabled: { type: 'boolean' },
            },
          },
        },
        created_at: dateTime,
        updated_at: dateTime,
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
        items: {
          type: 'object',
          description: 'A fan-out task only: its progress',
          properties: {
            total: { type: 'integer' },
            completed: { type: 'integer' },
            failed: { type: 'integer' },
            running: { type: 'integer' },
          },
        },
        child_execution_id: { ...uuid, description: 'A harmonia.run_workflow task only: the child execution' },
      },
    },
    Execution: {
      type: 'object',
      required: ['execution_id', 'workflow_id', 'status'],
      properties: {
        execution_id: uuid,
        workflow_id: uuid,
        workflow_version: { type: 'integer' },
        status: { type: 'string', enum: [...EXECUTION_STATUSES] },
        start_time: time,
        end_time: time,
        input: { type: 'object' },
        output: {},
        error,
        metadata: { type: 'object' },
        restored_from: { type: ['string', 'null'], format: 'uuid' },
        rerun_of: { type: ['string', 'null'], format: 'uuid' },
        parent: {
          type: ['object', 'null'],
          description: 'The execution and task that started this one as a sub-workflow',
          properties: { execution_id: uuid, task_id: { type: 'string' } },
        },
        task_executions: { type: 'object', additionalProperties: ref('TaskExecution') },
      },
    },
    Event: {
      type: 'object',
      required: ['seq', 'type', 'execution_id', 'timestamp', 'data'],
      properties: {
        seq: { type: 'integer' },
        type: { type: 'string', enum: [...EVENT_TYPES] },
        execution_id: uuid,
        task_id: { type: 'string' },
        timestamp: dateTime,
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
        template_id: uuid,
        name: { type: 'string' },
        description: { type: 'string' },
        workflow_definition_id: uuid,
        parameters: { type: 'object' },
        version: { type: 'integer' },
        workflow_version: { type: 'integer' },
        created_at: dateTime,
      },
    },
    ScheduleInfo: {
      type: 'object',
      required: ['cron', 'timezone', 'enabled', 'next_run_times'],
      properties: {
        cron: { type: 'string' },
        timezone: { type: 'string' },
        enabled: { type: 'boolean' },
        next_run_times: { type: 'array', items: dateTime, description: 'The next 5 ticks; empty while disabled' },
        last_tick: { ...dateTime, description: 'The newest tick taken; absent before the first' },
      },
    },
    WorkflowVersion: {
      type: 'object',
      required: ['version', 'created_at'],
      properties: { version: { type: 'integer' }, created_at: dateTime },
    },
    State: {
      type: 'object',
      properties: { execution_id: { type: 'string' }, state: { type: 'object' }, updated_at: dateTime },
    },
    Checkpoint: {
      type: 'object',
      properties: {
        checkpoint_id: uuid,
        execution_id: uuid,
        created_at: dateTime,
        workflow_status: { type: 'string', enum: [...EXECUTION_STATUSES] },
        task_statuses: { type: 'object' },
        completed_tasks: { type: 'array', items: { type: 'string' } },
        state_data: { type: 'object' },
      },
    },
    Component: {
      type: 'object',
      required: ['name', 'url', 'actions', 'source', 'has_secret'],
      properties: {
        name: { type: 'string' },
        url: { type: ['string', 'null'], description: 'Base URL of a remote component (actions at {url}/api/actions/{action})' },
        actions: { type: ['array', 'null'], items: { type: 'string' }, description: 'null: any action' },
        description: { type: 'string' },
        timeout: { type: ['number', 'null'], description: 'Seconds one call may take' },
        metadata: { type: 'object' },
        source: { type: 'string', enum: [...COMPONENT_SOURCES] },
        has_secret: { type: 'boolean', description: 'The secret itself is never returned' },
        enabled: { type: 'boolean', description: 'False for a built-in the operator has not enabled' },
        created_at: time,
        updated_at: time,
      },
    },
    Subscription: {
      type: 'object',
      required: ['subscription_id', 'url', 'types', 'workflow_id', 'has_secret', 'created_at'],
      properties: {
        subscription_id: uuid,
        url: { type: 'string', description: 'Where each matching event is POSTed as its Event JSON' },
        types: { type: ['array', 'null'], items: { type: 'string', enum: [...EVENT_TYPES] }, description: 'null: every event' },
        workflow_id: { type: ['string', 'null'], format: 'uuid', description: 'null: every workflow' },
        has_secret: { type: 'boolean', description: 'Deliveries are signed (X-Harmonia-Signature); the secret is never returned' },
        created_at: dateTime,
        disabled_at: { ...time, description: 'Set when the receiver kept failing for 24 h: nothing more is sent' },
        failing_since: { ...time, description: 'Since when deliveries fail without a success in between' },
        last_error: { type: ['string', 'null'] },
      },
    },
    SignalAnswer: {
      type: 'object',
      required: ['execution_id', 'name', 'delivered'],
      properties: { execution_id: uuid, name: { type: 'string' }, delivered: { type: 'boolean' } },
    },
    SignalSummary: {
      type: 'object',
      required: ['name', 'waiting', 'received'],
      properties: { name: { type: 'string' }, waiting: { type: 'boolean' }, received: { type: 'array', items: {} } },
    },
    Node: {
      type: 'object',
      required: ['node_id', 'started_at', 'last_seen', 'executions_owned', 'version'],
      properties: {
        node_id: { type: 'string', description: 'HARMONIA_NODE_ID, else host:pid' },
        started_at: dateTime,
        last_seen: { ...dateTime, description: 'Its last heartbeat (written with each lease renewal)' },
        executions_owned: { type: 'integer', description: 'Unfinished executions it holds a valid lease on' },
        version: { type: 'string' },
      },
    },
    AuditRecord: {
      type: 'object',
      properties: {
        audit_id: uuid,
        time: dateTime,
        actor: { type: 'string' },
        action: { type: 'string' },
        method: { type: 'string' },
        path: { type: 'string' },
        target_id: { type: ['string', 'null'] },
        status: { type: 'integer' },
      },
    },
    ComponentHealth: {
      type: 'object',
      required: ['name', 'healthy'],
      properties: {
        name: { type: 'string' },
        healthy: { type: 'boolean' },
        status_code: { type: 'integer' },
        latency_ms: { type: 'integer' },
        error: { type: 'string' },
      },
    },
    CallbackAnswer: {
      type: 'object',
      required: ['accepted', 'task_id', 'status'],
      properties: {
        accepted: { type: 'boolean', const: true },
        task_id: { type: 'string' },
        status: { type: 'string', enum: [...TASK_STATUSES] },
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
  }
}
