/**
 * Every request body the HTTP API takes, as valibot schemas, in one place: the routes parse with them and openapi.ts
 * documents them, so no body shape is written twice. The workflow, template, component and callback bodies are the
 * model's (the facade parses those itself); the rest belong to the HTTP edge and are declared here.
 */
import * as v from 'valibot'
import { isPlainObject } from '../json.js'
import { CompleteTaskSchema, CreateComponentSchema, FailTaskSchema, ReplaceComponentSchema } from '../model/component.schema.js'
import { CreateSubscriptionSchema } from '../model/subscriptions.js'
import { InstantiateBodySchema, TemplateBodySchema } from '../model/template.js'
import { objectRecord, WorkflowDefinitionSchema } from '../model/workflow.schema.js'

/** `POST /api/executions`. */
export const StartExecutionBody = v.object({
  workflow_id: v.pipe(v.string('workflow_id must be a string'), v.uuid('workflow_id must be a UUID')),
  input: v.optional(v.unknown()),
  version: v.optional(v.pipe(v.number('version must be a number'), v.integer('version must be an integer'), v.minValue(1))),
  metadata: v.optional(objectRecord(v.string(), v.unknown(), 'metadata must be an object')),
})

/** `PUT /api/state/{execution_id}`. Not v.record: it accepts an array and turns `[1]` into `{"0": 1}`. */
export const SaveStateBody = v.object({ state: v.custom<Record<string, unknown>>(isPlainObject, 'state must be a JSON object') })

/** `POST /api/checkpoints`. */
export const CheckpointBody = v.object({
  execution_id: v.pipe(v.string('execution_id must be a string'), v.uuid('execution_id must be a UUID')),
})

/** `POST /api/executions/{id}/rerun`: which tasks run again (and their downstream), and an input that replaces the old. */
export const RerunBody = v.object({
  tasks: v.optional(
    v.pipe(
      v.array(v.pipe(v.string('each task must be a task id'), v.nonEmpty()), 'tasks must be a list of task ids'),
      v.nonEmpty('tasks must name at least one task (leave it out to rerun what did not complete)'),
    ),
  ),
  input: v.optional(v.unknown()),
})

/** `POST /api/executions/{id}/signals/{name}`: the payload the waiting task gets as its output. */
export const SendSignalBody = v.object({ payload: v.optional(v.unknown()) })

/** Every request body, by the name the OpenAPI document gives its schema component. */
export const REQUEST_BODIES = {
  WorkflowDefinition: WorkflowDefinitionSchema,
  StartExecution: StartExecutionBody,
  CreateTemplate: TemplateBodySchema,
  InstantiateTemplate: InstantiateBodySchema,
  SaveState: SaveStateBody,
  CreateCheckpoint: CheckpointBody,
  CreateComponent: CreateComponentSchema,
  ReplaceComponent: ReplaceComponentSchema,
  CompleteTask: CompleteTaskSchema,
  FailTask: FailTaskSchema,
  SendSignal: SendSignalBody,
  Rerun: RerunBody,
  CreateSubscription: CreateSubscriptionSchema,
} as const

export type RequestBodyName = keyof typeof REQUEST_BODIES
